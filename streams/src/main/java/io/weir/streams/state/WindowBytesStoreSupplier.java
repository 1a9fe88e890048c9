package io.weir.streams.state;

import io.weir.streams.state.internals.BytesStoreSupplier;

import java.util.Objects;

/**
 * The engine of a window store plus its shape: window size and retention (how much stream time of
 * windows it keeps; at least size + grace for an aggregation). Immutable.
 */
public record WindowBytesStoreSupplier(BytesStoreSupplier engine, long retentionPeriodMs, long windowSizeMs) {

    public WindowBytesStoreSupplier {
        Objects.requireNonNull(engine, "engine");
        if (windowSizeMs <= 0) {
            throw new IllegalArgumentException("window size must be > 0 ms, got " + windowSizeMs);
        }
        if (retentionPeriodMs < windowSizeMs) {
            throw new IllegalArgumentException("retention " + retentionPeriodMs + " ms must be at least the window size "
                + windowSizeMs + " ms");
        }
    }

    public String name() {
        return engine.name();
    }
}
