package io.weir.streams.errors;

/**
 * An interactive query cannot be answered now: the job is rebalancing or restoring (the store may be
 * migrating to another instance; retry, after looking up its host again), the job is not running, or the
 * store is unknown. As in Kafka Streams.
 */
public class InvalidStateStoreException extends StreamsException {
    private static final long serialVersionUID = 1L;

    public InvalidStateStoreException(String message) {
        super(message);
    }

    public InvalidStateStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
