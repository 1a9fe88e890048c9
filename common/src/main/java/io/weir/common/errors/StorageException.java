package io.weir.common.errors;

/**
 * The storage layer failed in a way that is the broker's fault, not the request's (an index that
 * breaks its invariants, a failed disk); answered KAFKA_STORAGE_ERROR. log-core's storage exceptions
 * extend it so that layers which do not depend on log-core (the protocol's error codes) can name them.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
