package io.weir.bench;

import java.util.Locale;

/**
 * Which client library a load tool drives: Apache kafka-clients, or Weir's own producer and consumer.
 * Both of Weir's clients are wired in; a role without a Weir client (an admin, say) fails with a
 * message that says so instead of silently measuring something else.
 */
public enum ClientKind {
    KAFKA,
    WEIR;

    /** For picocli: accepts {@code weir} and {@code kafka} in any case. */
    public static ClientKind parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown client '" + value + "' (expected weir or kafka)");
        }
    }

    /** Fails with {@link ClientNotAvailableException} when this client cannot be run from this build. */
    public void requireAvailable(String role) {
        if (this == WEIR && !role.equals("producer") && !role.equals("consumer")) {
            throw new ClientNotAvailableException("--client weir: Weir's own " + role
                + " (io.weir." + role + ") is not available yet in this build; use --client kafka");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The chosen client does not exist in this build. */
    public static final class ClientNotAvailableException extends RuntimeException {
        public ClientNotAvailableException(String message) {
            super(message);
        }
    }
}
