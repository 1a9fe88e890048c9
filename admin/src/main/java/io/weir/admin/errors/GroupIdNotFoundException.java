package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#GROUP_ID_NOT_FOUND}. */
public final class GroupIdNotFoundException extends ApiException {
    private static final long serialVersionUID = 1L;

    public GroupIdNotFoundException(String message) {
        super(Errors.GROUP_ID_NOT_FOUND, message);
    }
}
