package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#UNKNOWN_TOPIC_OR_PARTITION}. */
public final class UnknownTopicOrPartitionException extends ApiException {
    private static final long serialVersionUID = 1L;

    public UnknownTopicOrPartitionException(String message) {
        super(Errors.UNKNOWN_TOPIC_OR_PARTITION, message);
    }
}
