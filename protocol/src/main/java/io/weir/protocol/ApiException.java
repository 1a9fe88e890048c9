package io.weir.protocol;

/**
 * An error that travels on the wire as an {@link Errors} code. Whether a client retries is decided
 * in one place from {@link #isRetriable()}.
 */
public class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Errors error;

    public ApiException(Errors error, String message) {
        super(message);
        this.error = error;
    }

    public Errors error() {
        return error;
    }

    public boolean isRetriable() {
        return error.isRetriable();
    }
}
