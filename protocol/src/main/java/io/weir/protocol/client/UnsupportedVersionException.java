package io.weir.protocol.client;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/** The broker implements no version of the API that this client can send. Not retriable. */
public final class UnsupportedVersionException extends ApiException {
    private static final long serialVersionUID = 1L;

    public UnsupportedVersionException(String message) {
        super(Errors.UNSUPPORTED_VERSION, message);
    }
}
