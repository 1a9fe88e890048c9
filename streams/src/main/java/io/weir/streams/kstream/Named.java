package io.weir.streams.kstream;

import io.weir.streams.errors.TopologyException;

/**
 * The name of the processor node an operation adds, instead of a generated {@code KSTREAM-...-000000000N}.
 * Stable names keep a topology's node, store and topic names fixed when the job changes. Immutable.
 */
public final class Named {
    private static final int MAX_LENGTH = 249;
    private final String name;

    private Named(String name) {
        this.name = name;
    }

    public static Named as(String name) {
        validate(name);
        return new Named(name);
    }

    /** The name, or null when the operation should generate one. */
    public String name() {
        return name;
    }

    /** Names become topic name parts: ASCII letters, digits, '.', '_', '-', at most 249 characters. */
    public static void validate(String name) {
        if (name == null || name.isEmpty()) {
            throw new TopologyException("a name cannot be null or empty");
        }
        if (name.length() > MAX_LENGTH) {
            throw new TopologyException("name " + name + " is longer than " + MAX_LENGTH + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
                throw new TopologyException("name " + name + " is illegal: use only ASCII letters, digits, '.', '_' and '-'");
            }
        }
    }
}
