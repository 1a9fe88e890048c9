package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_TOPIC_EXCEPTION}. */
public final class InvalidTopicException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidTopicException(String message) {
        super(Errors.INVALID_TOPIC_EXCEPTION, message);
    }
}
