package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#GROUP_SUBSCRIBED_TO_TOPIC}. */
public final class GroupSubscribedToTopicException extends ApiException {
    private static final long serialVersionUID = 1L;

    public GroupSubscribedToTopicException(String message) {
        super(Errors.GROUP_SUBSCRIBED_TO_TOPIC, message);
    }
}
