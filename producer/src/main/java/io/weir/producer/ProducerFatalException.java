package io.weir.producer;

import io.weir.protocol.Errors;

/**
 * The producer cannot go on (fenced by a newer producer, no producer id obtainable, not authorized
 * for its transactional id, or a broken invariant): every later send and transaction call fails with
 * this, and the producer must be closed. Not retriable.
 *
 * <p>The producer's error kinds, as Kafka's (KIP-1050): retriable errors ({@link
 * io.weir.protocol.ApiException#isRetriable()}, handled inside, surfacing only as a timeout),
 * abortable ones ({@link TransactionAbortableException}: abort the transaction and go on) and these
 * fatal ones, of which two subclasses say what the application can do next:
 * {@link ApplicationRecoverableException} (fenced, or the coordinator lost the producer's identity: a new
 * producer with the same {@code transactional.id} works) and {@link InvalidConfigurationException}
 * (authorization, transaction timeout, unsupported version: a new producer would fail the same way). This
 * class itself is the rest: a broken invariant or an unexpected answer.
 */
public class ProducerFatalException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Errors error;

    public ProducerFatalException(String message, Throwable cause) {
        this(null, message, cause);
    }

    public ProducerFatalException(Errors error, String message, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    /** The broker's error behind this, or null when it did not come from the wire. */
    public Errors error() {
        return error;
    }
}
