package io.weir.admin;

import java.util.Objects;

/** One change to one config key; {@code value} is ignored for DELETE. */
public record AlterConfigOp(String name, String value, OpType opType) {
    /** Operations with their wire ids. APPEND and SUBTRACT apply to list-valued configs. */
    public enum OpType {
        SET((byte) 0), DELETE((byte) 1), APPEND((byte) 2), SUBTRACT((byte) 3);

        private final byte id;

        OpType(byte id) {
            this.id = id;
        }

        public byte id() {
            return id;
        }
    }

    public AlterConfigOp {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(opType, "opType");
    }
}
