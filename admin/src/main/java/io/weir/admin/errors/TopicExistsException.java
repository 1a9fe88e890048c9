package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#TOPIC_ALREADY_EXISTS}. */
public final class TopicExistsException extends ApiException {
    private static final long serialVersionUID = 1L;

    public TopicExistsException(String message) {
        super(Errors.TOPIC_ALREADY_EXISTS, message);
    }
}
