package io.weir.protocol.client;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/**
 * A call did not complete before its deadline ({@code default.api.timeout.ms} or the per-call
 * timeout), or a request got no response within {@code request.timeout.ms}. Retriable: the operation
 * may or may not have happened on the broker.
 */
public final class TimeoutException extends ApiException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(String message) {
        super(Errors.REQUEST_TIMED_OUT, message);
    }

    public TimeoutException(String message, Throwable cause) {
        this(message);
        if (cause != null) {
            initCause(cause);
        }
    }
}
