package io.weir.producer;

/**
 * The producer cannot go on (fenced by a newer producer, no producer id obtainable, or a broken
 * invariant): every later send fails with this, and the producer should be closed. Not retriable.
 */
public final class ProducerFatalException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProducerFatalException(String message, Throwable cause) {
        super(message, cause);
    }
}
