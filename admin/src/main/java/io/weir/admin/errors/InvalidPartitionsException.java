package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_PARTITIONS}. */
public final class InvalidPartitionsException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidPartitionsException(String message) {
        super(Errors.INVALID_PARTITIONS, message);
    }
}
