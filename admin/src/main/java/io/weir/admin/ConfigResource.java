package io.weir.admin;

import java.util.Objects;

/** A resource that has configs: a topic (by name) or a broker (by id; "" for the cluster default). */
public record ConfigResource(Type type, String name) {
    /** Resource types with their wire ids. */
    public enum Type {
        UNKNOWN((byte) 0), TOPIC((byte) 2), BROKER((byte) 4), BROKER_LOGGER((byte) 8);

        private final byte id;

        Type(byte id) {
            this.id = id;
        }

        public byte id() {
            return id;
        }

        public static Type forId(byte id) {
            for (Type t : values()) {
                if (t.id == id) {
                    return t;
                }
            }
            return UNKNOWN;
        }
    }

    public ConfigResource {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
    }
}
