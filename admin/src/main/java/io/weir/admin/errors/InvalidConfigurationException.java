package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker answered {@link Errors#INVALID_CONFIG}. */
public final class InvalidConfigurationException extends ApiException {
    private static final long serialVersionUID = 1L;

    public InvalidConfigurationException(String message) {
        super(Errors.INVALID_CONFIG, message);
    }
}
