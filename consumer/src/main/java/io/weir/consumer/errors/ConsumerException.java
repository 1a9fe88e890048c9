package io.weir.consumer.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/**
 * A protocol error the consumer cannot handle itself (authorization, an invalid group id, fenced
 * static member...). {@link #isRetriable()} says whether calling again may succeed.
 */
public class ConsumerException extends ApiException {
    private static final long serialVersionUID = 1L;

    public ConsumerException(Errors error, String message) {
        super(error, message);
    }
}
