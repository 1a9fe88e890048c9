package io.weir.protocol.client;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/**
 * The connection to a broker failed or closed before the response arrived. Retriable: whether the
 * broker acted on the request is unknown.
 */
public final class DisconnectException extends ApiException {
    private static final long serialVersionUID = 1L;

    public DisconnectException(String message) {
        super(Errors.NETWORK_EXCEPTION, message);
    }

    public DisconnectException(String message, Throwable cause) {
        this(message);
        if (cause != null) {
            initCause(cause);
        }
    }
}
