package io.weir.consumer.errors;

/** Thrown from a blocking consumer call when another thread called {@code wakeup()}. */
public class WakeupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public WakeupException() {
        super("the consumer was woken up");
    }
}
