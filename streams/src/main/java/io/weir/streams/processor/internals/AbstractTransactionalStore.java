package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.ChangelogSink;
import io.weir.streams.state.internals.BytesStoreSupplier;
import io.weir.streams.state.internals.TransactionalBytesStore;

import java.util.Map;

/**
 * What every typed transactional store (key-value, window, session) shares: opening its engine in the
 * task's state directory, the serdes (the job's defaults when none were given), the changelog sink and
 * topic, and passing commit / abort / offsets through to the engine. Subclasses add their key layout.
 * Used by the task's thread.
 */
abstract class AbstractTransactionalStore<K, V> implements TransactionalStateStore {
    private final BytesStoreSupplier engine;
    private final boolean logging;
    protected Serde<K> keySerde;
    protected Serde<V> valueSerde;
    protected ChangelogSink changelog = ChangelogSink.NONE;
    protected String changelogTopic;
    private TransactionalBytesStore bytes;

    AbstractTransactionalStore(BytesStoreSupplier engine, Serde<K> keySerde, Serde<V> valueSerde, boolean logging) {
        this.engine = engine;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.logging = logging;
    }

    @Override
    public String name() {
        return engine.name();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void init(StateStoreContext context) {
        if (bytes != null) {
            throw new IllegalStateException("store " + name() + " is already open");
        }
        if (keySerde == null) {
            keySerde = (Serde<K>) context.keySerde();
        }
        if (valueSerde == null) {
            valueSerde = (Serde<V>) context.valueSerde();
        }
        bytes = engine.open(context.stateDir());
        if (logging) {
            changelog = context.changelogSink(name());
            changelogTopic = ProcessorStateNames.changelogTopic(context.applicationId(), name());
        }
        context.register(this);
    }

    @Override
    public boolean persistent() {
        return engine.persistent();
    }

    @Override
    public boolean isOpen() {
        return bytes != null;
    }

    @Override
    public void close() {
        if (bytes != null) {
            bytes.close();
            bytes = null;
        }
    }

    @Override
    public void commit(Map<TopicPartition, Long> offsets) {
        open().commit(offsets);
    }

    @Override
    public void abort() {
        open().abort();
    }

    @Override
    public Map<TopicPartition, Long> committedOffsets() {
        return open().committedOffsets();
    }

    @Override
    public long uncommittedBytes() {
        return open().uncommittedBytes();
    }

    /** The open engine; IllegalStateException if the store is not open. */
    protected final TransactionalBytesStore open() {
        if (bytes == null) {
            throw new IllegalStateException("store " + name() + " is not open");
        }
        return bytes;
    }

    protected final byte[] keyBytes(K key) {
        if (key == null) {
            throw new NullPointerException("store " + name() + " cannot hold a null key");
        }
        return keySerde.serializer().serialize(changelogTopic, key);
    }

    protected final V value(byte[] v) {
        return v == null ? null : valueSerde.deserializer().deserialize(changelogTopic, v);
    }
}
