package io.weir.streams.state;

import io.weir.streams.state.internals.BytesStoreSupplier;

import java.util.Objects;

/** The engine of a session store plus its retention (stream time of sessions it keeps, by session end). */
public record SessionBytesStoreSupplier(BytesStoreSupplier engine, long retentionPeriodMs) {

    public SessionBytesStoreSupplier {
        Objects.requireNonNull(engine, "engine");
        if (retentionPeriodMs <= 0) {
            throw new IllegalArgumentException("retention must be > 0 ms, got " + retentionPeriodMs);
        }
    }

    public String name() {
        return engine.name();
    }
}
