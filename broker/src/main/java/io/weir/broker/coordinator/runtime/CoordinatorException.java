package io.weir.broker.coordinator.runtime;

import io.weir.protocol.Errors;

/**
 * Why the runtime could not run an operation or commit its records, with the protocol error it
 * stands for: NOT_COORDINATOR (the partition is not, or no longer, loaded here),
 * COORDINATOR_LOAD_IN_PROGRESS (it is being loaded), or — for an {@link AppendFailed} — the storage
 * error the {@link PartitionWriter} met, which each coordinator maps to its own client-facing error.
 */
public class CoordinatorException extends RuntimeException {
    private final Errors error;

    public CoordinatorException(Errors error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public Errors error() {
        return error;
    }

    /** The append of an operation's records failed; {@link #error()} is the storage error. */
    public static final class AppendFailed extends CoordinatorException {
        public AppendFailed(Errors error, String message) {
            super(error, message);
        }
    }
}
