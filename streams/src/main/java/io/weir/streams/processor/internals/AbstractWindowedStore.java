package io.weir.streams.processor.internals;

import io.weir.streams.kstream.Windowed;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.internals.BytesStoreSupplier;

/**
 * What the window and session stores share on top of {@link AbstractTransactionalStore}: their cached updates go
 * downstream keyed by {@link Windowed} keys (decoded from the store key by {@link #windowed}), and each cache flush
 * is followed by dropping what fell out of retention ({@link #expire}), since cached writes skip the per-put expiry.
 * Used by the task's thread.
 */
abstract class AbstractWindowedStore<K, V> extends AbstractTransactionalStore<K, V>
    implements CachedStateStore<Windowed<K>, V> {
    private CacheFlushListener<Windowed<K>, V> flushListener;

    AbstractWindowedStore(BytesStoreSupplier engine, Serde<K> keySerde, Serde<V> valueSerde, boolean logging,
                          boolean caching) {
        super(engine, keySerde, valueSerde, logging, caching);
    }

    /** The windowed key a store key stands for. */
    protected abstract Windowed<K> windowed(byte[] storeKey);

    /** Deletes (with changelog tombstones) the entries that fell out of retention. */
    protected abstract void expire();

    @Override
    public final boolean setFlushListener(CacheFlushListener<Windowed<K>, V> listener) {
        if (cache == null) {
            return false;
        }
        flushListener = listener;
        return true;
    }

    @Override
    public boolean flushCache() {
        boolean flushed = super.flushCache();
        if (cache != null) {
            expire();
        }
        return flushed;
    }

    @Override
    protected final void handOn(ThreadCache.Entry entry, byte[] oldBytes) {
        CacheFlushListener<Windowed<K>, V> listener = flushListener;
        if (listener != null) {
            ProcessorRecordContext c = entry.context();
            listener.apply(new Record<>(windowed(entry.key().get()), value(entry.value()), c.timestamp(), c.headers()),
                value(oldBytes));
        }
    }
}
