package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#POLICY_VIOLATION}. */
public final class PolicyViolationException extends ApiException {
    private static final long serialVersionUID = 1L;

    public PolicyViolationException(String message) {
        super(Errors.POLICY_VIOLATION, message);
    }
}
