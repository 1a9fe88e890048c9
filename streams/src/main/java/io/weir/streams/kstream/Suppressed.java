package io.weir.streams.kstream;

import io.weir.streams.kstream.internals.SuppressedInternal;

/**
 * Holds back a table's updates: {@link #untilWindowCloses} emits one final result per window once
 * stream time passes the window's end plus grace, instead of every intermediate update. The buffer is
 * a changelogged store, so held results survive a restart and commit with the task.
 */
public interface Suppressed<K> {

    /** How much the buffer may hold. Only {@link #unbounded()} exists yet. */
    interface BufferConfig<BC extends BufferConfig<BC>> {
        /** No limit: a strict buffer never emits early. */
        static StrictBufferConfig unbounded() {
            return new StrictBufferConfig() {
            };
        }
    }

    /** A buffer that never emits a result early. */
    interface StrictBufferConfig extends BufferConfig<StrictBufferConfig> {
    }

    /** One final result per window, emitted when the window closes (end + grace reached by stream time). */
    static <K extends Windowed<?>> Suppressed<K> untilWindowCloses(StrictBufferConfig bufferConfig) {
        if (bufferConfig == null) {
            throw new IllegalArgumentException("bufferConfig cannot be null");
        }
        return new SuppressedInternal<>(null);
    }

    /** Names the suppression node; its buffer store is {@code <name>-store}. */
    Suppressed<K> withName(String name);
}
