package io.weir.streams.processor.internals;

import io.weir.streams.errors.StreamsException;

/**
 * A send failed with a retriable error and the production exception handler answered RETRY (KIP-1065): the
 * stream thread restarts its tasks from their last commit (under exactly-once the open transaction aborts), so
 * the record is produced again. Kafka Streams' {@code TaskCorruptedException} plays this part.
 */
final class TaskRetryException extends StreamsException {
    private static final long serialVersionUID = 1L;

    TaskRetryException(String message, Throwable cause) {
        super(message, cause);
    }
}
