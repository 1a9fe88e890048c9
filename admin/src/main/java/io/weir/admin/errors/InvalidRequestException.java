package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_REQUEST}. */
public final class InvalidRequestException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(Errors.INVALID_REQUEST, message);
    }
}
