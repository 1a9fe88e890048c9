package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.JoinWindows;
import io.weir.streams.kstream.KStream;
import io.weir.streams.kstream.StreamJoined;
import io.weir.streams.kstream.ValueJoiner;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;
import io.weir.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Stream-stream joins. Each side has a processor that buffers its records in its side's byte store and
 * looks up the other side's store for partners in its window; both forward to one merge node.
 *
 * <p>Timing (t = a record's timestamp, stream time = the task's): a record is late, and dropped, when
 * t + grace &lt; stream time. A left record at t joins right records in [t - before, t + after], so no
 * partner can come once stream time passes t + after + grace (a right record: t + before + grace);
 * left/outer joins then emit the record joined with null, from a shared store of records that found no
 * partner yet. So a null result is never followed by a real one for the same record.
 *
 * <p>Side store entries: key {@code | key length (4) | key | t (8) | seq (8) |}, value the serialized
 * value; shared store: key {@code | close time (8) | side (1) | seq (8) | key length (4) | key |}, value
 * {@code | t (8) | value |}. {@code seq} (start wall-clock ms shifted left by 20 bits, plus a counter)
 * keeps equal keys at equal times apart. Entries older than before + after + grace are purged by a scan
 * once per that much stream time.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class StreamStreamJoin {
    private static final Logger log = LoggerFactory.getLogger(StreamStreamJoin.class);

    private StreamStreamJoin() {
    }

    static <K, V, VO, VR> KStream<K, VR> join(KStreamImpl<K, V> left, KStream<K, VO> otherStream,
                                             ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                             StreamJoined<K, V, VO> joined, boolean leftOuter, boolean rightOuter) {
        KStreamImpl<K, VO> right = (KStreamImpl<K, VO>) otherStream;
        InternalStreamsBuilder builder = left.builder;
        String thisName = joined.name() != null ? joined.name() + "-join-this" : builder.newName("KSTREAM-JOINTHIS-");
        String otherName = joined.name() != null ? joined.name() + "-join-other" : builder.newName("KSTREAM-JOINOTHER-");
        String mergeName = joined.name() != null ? joined.name() + "-merge" : builder.newName("KSTREAM-MERGE-");
        String storeBase = joined.storeName() != null ? joined.storeName() : thisName;
        String thisStore = storeBase + "-this-join-store";
        String otherStore = storeBase + "-other-join-store";
        String sharedStore = leftOuter || rightOuter ? storeBase + "-outer-shared-join-store" : null;

        Serde<K> keySerde = joined.keySerde() != null ? joined.keySerde() : left.keySerde != null ? left.keySerde : right.keySerde;
        Serde<V> leftValues = joined.valueSerde() != null ? joined.valueSerde() : left.valueSerde;
        Serde<VO> rightValues = joined.otherValueSerde() != null ? joined.otherValueSerde() : right.valueSerde;
        String repartitionBase = joined.name() != null ? joined.name() : thisName;
        KStreamImpl<K, V> leftInput = left.repartitionRequired
            ? left.repartitionThrough(repartitionBase + "-left", keySerde, leftValues, null, true) : left;
        KStreamImpl<K, VO> rightInput = right.repartitionRequired
            ? right.repartitionThrough(repartitionBase + "-right", keySerde, rightValues, null, true) : right;

        for (String store : sharedStore == null ? List.of(thisStore, otherStore) : List.of(thisStore, otherStore, sharedStore)) {
            builder.topology().addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(store),
                Serdes.ByteArray(), Serdes.ByteArray()));
        }
        String[] stores = sharedStore == null ? new String[] {thisStore, otherStore} : new String[] {thisStore, otherStore, sharedStore};
        ValueJoiner<Object, Object, Object> j = (ValueJoiner) joiner;
        Timing timing = new Timing(windows.beforeMs, windows.afterMs, windows.gracePeriodMs());
        builder.topology().addProcessor(thisName, side(true, thisStore, otherStore, sharedStore, leftOuter, j, timing,
            (Serde) keySerde, (Serde) leftValues, (Serde) rightValues), leftInput.nodeName);
        builder.topology().connectProcessorAndStateStores(thisName, stores);
        builder.topology().addProcessor(otherName, side(false, otherStore, thisStore, sharedStore, rightOuter, j, timing,
            (Serde) keySerde, (Serde) rightValues, (Serde) leftValues), rightInput.nodeName);
        builder.topology().connectProcessorAndStateStores(otherName, stores);
        builder.topology().addProcessor(mergeName, Processors.stateless((ctx, r) -> ctx.forward(r)), thisName, otherName);
        return new KStreamImpl<>(builder, mergeName, keySerde, null, false);
    }

    private record Timing(long beforeMs, long afterMs, long graceMs) {
        long retentionMs() {
            return beforeMs + afterMs + graceMs;
        }
    }

    /**
     * One side's processor. {@code isLeft} orients the window and the joiner's arguments; {@code outer}
     * says whether this side's records that find no partner are emitted joined with null.
     */
    private static ProcessorSupplier<Object, Object, Object, Object> side(boolean isLeft, String ownStoreName, String otherStoreName,
                                                                         String sharedStoreName, boolean outer,
                                                                         ValueJoiner<Object, Object, Object> joiner, Timing timing,
                                                                         Serde<Object> keySerdeOrNull, Serde<Object> ownValuesOrNull,
                                                                         Serde<Object> otherValuesOrNull) {
        // partners of a record at t have timestamps in [t - lookBack, t + lookAhead]
        long lookBack = isLeft ? timing.beforeMs() : timing.afterMs();
        long lookAhead = isLeft ? timing.afterMs() : timing.beforeMs();
        long otherLookAhead = isLeft ? timing.beforeMs() : timing.afterMs();
        byte ownSide = (byte) (isLeft ? 0 : 1);
        return () -> new ContextualProcessor<>() {
            private KeyValueStore<byte[], byte[]> own;
            private KeyValueStore<byte[], byte[]> other;
            private KeyValueStore<byte[], byte[]> shared;
            private Serde<Object> keySerde;
            private Serde<Object> ownValues;
            private Serde<Object> otherValues;
            private long seqBase;
            private long counter;
            private long lastPurgeMs = -1;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                own = context.getStateStore(ownStoreName);
                other = context.getStateStore(otherStoreName);
                shared = sharedStoreName == null ? null : context.getStateStore(sharedStoreName);
                keySerde = keySerdeOrNull != null ? keySerdeOrNull : (Serde<Object>) context.keySerde();
                ownValues = ownValuesOrNull != null ? ownValuesOrNull : (Serde<Object>) context.valueSerde();
                otherValues = otherValuesOrNull != null ? otherValuesOrNull : (Serde<Object>) context.valueSerde();
                seqBase = context.currentSystemTimeMs() << 20;
            }

            @Override
            public void process(Record<Object, Object> record) {
                if (record.key() == null || record.value() == null) {
                    return;
                }
                long t = record.timestamp();
                long streamTime = context().currentStreamTimeMs();
                if (t + timing.graceMs() < streamTime) {
                    log.debug("Skipping a join record of key {} at {} ms: late for stream time {} ms (grace {} ms)",
                        record.key(), t, streamTime, timing.graceMs());
                    return;
                }
                byte[] k = keySerde.serializer().serialize(ownStoreName, record.key());
                long seq = seqBase + counter++;
                own.put(sideKey(k, t, seq), ownValues.serializer().serialize(ownStoreName, record.value()));

                List<KeyValue<byte[], byte[]>> partners = new ArrayList<>();
                try (KeyValueIterator<byte[], byte[]> it = other.range(sideKey(k, Math.max(0, t - lookBack), 0),
                    sideKey(k, t + lookAhead, Long.MAX_VALUE))) {
                    it.forEachRemaining(partners::add);
                }
                for (KeyValue<byte[], byte[]> p : partners) {
                    ByteBuffer pk = ByteBuffer.wrap(p.key, 4 + k.length, 16);
                    long partnerTime = pk.getLong();
                    long partnerSeq = pk.getLong();
                    Object partnerValue = otherValues.deserializer().deserialize(otherStoreName, p.value);
                    Object result = isLeft ? joiner.apply(record.value(), partnerValue) : joiner.apply(partnerValue, record.value());
                    context().forward(record.withValue(result).withTimestamp(Math.max(t, partnerTime)));
                    if (shared != null) {
                        // the partner found its partner: it will not be emitted joined with null
                        shared.delete(sharedKey(partnerTime + otherLookAhead + timing.graceMs(), (byte) (1 - ownSide), partnerSeq, k));
                    }
                }
                if (partners.isEmpty() && outer) {
                    byte[] v = ownValues.serializer().serialize(ownStoreName, record.value());
                    shared.put(sharedKey(t + lookAhead + timing.graceMs(), ownSide, seq, k),
                        ByteBuffer.allocate(8 + v.length).putLong(t).put(v).array());
                }
                if (shared != null) {
                    emitUnjoined(streamTime);
                }
                maybePurge(streamTime);
            }

            /** Emits, joined with null, every unpartnered record whose window closed before stream time. */
            private void emitUnjoined(long streamTime) {
                List<KeyValue<byte[], byte[]>> closed = new ArrayList<>();
                try (KeyValueIterator<byte[], byte[]> it = shared.range(null, ByteBuffer.allocate(8).putLong(streamTime).array())) {
                    while (it.hasNext()) {
                        KeyValue<byte[], byte[]> e = it.next();
                        if (ByteBuffer.wrap(e.key).getLong() < streamTime) {
                            closed.add(e);
                        }
                    }
                }
                for (KeyValue<byte[], byte[]> e : closed) {
                    ByteBuffer key = ByteBuffer.wrap(e.key);
                    key.getLong();
                    boolean leftRecord = key.get() == 0;
                    key.getLong();
                    int n = key.getInt();
                    Object k = keySerde.deserializer().deserialize(ownStoreName, Arrays.copyOfRange(e.key, 21, 21 + n));
                    long t = ByteBuffer.wrap(e.value).getLong();
                    byte[] v = Arrays.copyOfRange(e.value, 8, e.value.length);
                    // this side's values were serialized with this side's serde, the other's with the other's
                    Object value = (leftRecord == isLeft ? ownValues : otherValues).deserializer().deserialize(ownStoreName, v);
                    shared.delete(e.key);
                    Object result = leftRecord ? joiner.apply(value, null) : joiner.apply(null, value);
                    context().forward(new Record<>(k, result, t));
                }
            }

            private void maybePurge(long streamTime) {
                if (lastPurgeMs >= 0 && streamTime - lastPurgeMs < timing.retentionMs()) {
                    return;
                }
                lastPurgeMs = streamTime;
                long cutoff = streamTime - timing.retentionMs();
                for (KeyValueStore<byte[], byte[]> store : List.of(own, other)) {
                    List<byte[]> old = new ArrayList<>();
                    try (KeyValueIterator<byte[], byte[]> it = store.all()) {
                        while (it.hasNext()) {
                            byte[] key = it.next().key;
                            if (ByteBuffer.wrap(key, key.length - 16, 8).getLong() < cutoff) {
                                old.add(key);
                            }
                        }
                    }
                    old.forEach(store::delete);
                }
            }
        };
    }

    private static byte[] sideKey(byte[] key, long t, long seq) {
        return ByteBuffer.allocate(4 + key.length + 16).putInt(key.length).put(key).putLong(t).putLong(seq).array();
    }

    private static byte[] sharedKey(long closeTime, byte side, long seq, byte[] key) {
        return ByteBuffer.allocate(8 + 1 + 8 + 4 + key.length).putLong(closeTime).put(side).putLong(seq).putInt(key.length).put(key).array();
    }
}
