package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_REPLICA_ASSIGNMENT}. */
public final class InvalidReplicaAssignmentException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidReplicaAssignmentException(String message) {
        super(Errors.INVALID_REPLICA_ASSIGNMENT, message);
    }
}
