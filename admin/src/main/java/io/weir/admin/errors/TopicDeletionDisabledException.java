package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#TOPIC_DELETION_DISABLED}. */
public final class TopicDeletionDisabledException extends ApiException {
    private static final long serialVersionUID = 1L;

    public TopicDeletionDisabledException(String message) {
        super(Errors.TOPIC_DELETION_DISABLED, message);
    }
}
