package io.weir.producer;

import io.weir.protocol.Errors;

/**
 * The current transaction cannot commit (a send in it failed, the broker answered
 * TRANSACTION_ABORTABLE or INVALID_TXN_STATE, an offset commit was refused...), but the producer is
 * fine: call {@code abortTransaction()}, then begin a new transaction. Every transactional call
 * other than abort throws this until the transaction is aborted. Not retriable as such: retrying the
 * same transaction cannot succeed.
 */
public final class TransactionAbortableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Errors error;

    public TransactionAbortableException(Errors error, String message, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    /** The broker's error behind this, or null when the cause was local (e.g. a failed send). */
    public Errors error() {
        return error;
    }
}
