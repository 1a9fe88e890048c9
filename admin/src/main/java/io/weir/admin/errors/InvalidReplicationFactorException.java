package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_REPLICATION_FACTOR}. */
public final class InvalidReplicationFactorException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidReplicationFactorException(String message) {
        super(Errors.INVALID_REPLICATION_FACTOR, message);
    }
}
