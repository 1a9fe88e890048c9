package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_GROUP_ID}. */
public final class InvalidGroupIdException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidGroupIdException(String message) {
        super(Errors.INVALID_GROUP_ID, message);
    }
}
