package io.weir.streams.processor;

/** A handle to cancel a scheduled punctuation. */
@FunctionalInterface
public interface Cancellable {
    void cancel();
}
