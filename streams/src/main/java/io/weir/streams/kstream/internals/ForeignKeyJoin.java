package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.KTable;
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

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Foreign-key table-table joins, in three hops:
 * <ol>
 * <li>the left table's updates become subscriptions, keyed by foreign key, on
 *     {@code <base>-subscription-registration-topic}: {@code | SUBSCRIBE or UNSUBSCRIBE (1) | hash of the left
 *     value (8) | primary key bytes |};</li>
 * <li>beside the right table (same partitioning by foreign key) a subscription store
 *     {@code | fk length (4) | fk | pk | -> hash} remembers who wants which row; a subscription, and every
 *     update of a right row, sends responses keyed by primary key on {@code <base>-subscription-response-topic}:
 *     {@code | hash (8) | has value (1) | right value bytes |};</li>
 * <li>beside the left table, a response whose hash still matches the current left row emits the join.</li>
 * </ol>
 * Deleted left rows and rows without a foreign key are answered at once, without a round trip.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class ForeignKeyJoin {
    private static final byte SUBSCRIBE = 1;
    private static final byte UNSUBSCRIBE = 2;

    private ForeignKeyJoin() {
    }

    static <K, V, KO, VO, VR> KTable<K, VR> join(KTableImpl<K, V> left, KTable<KO, VO> otherTable,
                                                Function<? super V, ? extends KO> extractor,
                                                ValueJoiner<? super V, ? super VO, ? extends VR> joiner, boolean leftJoin) {
        Objects.requireNonNull(otherTable, "other");
        Objects.requireNonNull(extractor, "foreignKeyExtractor");
        Objects.requireNonNull(joiner, "joiner");
        KTableImpl<KO, VO> right = (KTableImpl<KO, VO>) otherTable;
        InternalStreamsBuilder builder = left.builder();
        String leftStore = KTableImpl.requireStore(left, "join it by foreign key");
        String rightStore = KTableImpl.requireStore(right, "join it by foreign key");
        String base = builder.newName("KTABLE-FK-JOIN-");
        String registration = base + "-subscription-registration-topic";
        String response = base + "-subscription-response-topic";
        String subscriptions = base + "-subscription-store";
        builder.topology().addInternalTopic(registration);
        builder.topology().addInternalTopic(response);
        Serde<Object> leftKeys = (Serde<Object>) left.keySerde();
        Serde<Object> leftValues = (Serde<Object>) left.valueSerde();
        Serde<Object> rightKeys = (Serde<Object>) right.keySerde();
        Serde<Object> rightValues = (Serde<Object>) right.valueSerde();
        Function<Object, Object> fk = (Function) extractor;
        ValueJoiner<Object, Object, Object> j = (ValueJoiner) joiner;

        String subscribe = base + "-subscribe";
        String result = base + "-result";
        String registrationSink = base + "-registration-sink";
        // 1. left updates -> subscriptions (or an immediate result when there is nothing to ask)
        builder.topology().addProcessor(subscribe, () -> new ContextualProcessor<Object, Object, Object, Object>() {
            private Serde<Object> values;
            private Serde<Object> keys;
            private Serde<Object> foreignKeys;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                values = or(leftValues, context.valueSerde());
                keys = or(leftKeys, context.keySerde());
                foreignKeys = or(rightKeys, context.keySerde());
            }

            @Override
            public void process(Record<Object, Object> record) {
                Change<Object> change = (Change<Object>) record.value();
                Object newFk = change.newValue() == null ? null : fk.apply(change.newValue());
                Object oldFk = change.oldValue() == null ? null : fk.apply(change.oldValue());
                byte[] pk = keys.serializer().serialize(registration, record.key());
                if (oldFk != null && !oldFk.equals(newFk)) {
                    send(record, oldFk, UNSUBSCRIBE, 0, pk);
                }
                if (newFk != null) {
                    send(record, newFk, SUBSCRIBE, hash(values.serializer().serialize(registration, change.newValue())), pk);
                } else if (change.newValue() != null && leftJoin) {
                    context().forward(record.withValue(new Change<>(j.apply(change.newValue(), null), null)), result);
                } else if (change.oldValue() != null) {
                    context().forward(record.withValue(new Change<>(null, null)), result);
                }
            }

            private void send(Record<Object, Object> record, Object foreignKey, byte instruction, long hash, byte[] pk) {
                byte[] key = foreignKeys.serializer().serialize(registration, foreignKey);
                byte[] value = ByteBuffer.allocate(9 + pk.length).put(instruction).putLong(hash).put(pk).array();
                context().forward(record.withKey(key).withValue(value), registrationSink);
            }
        }, left.nodeName());
        builder.topology().addSink(registrationSink, registration, null, Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(),
            null, subscribe);

        // 2. beside the right table: remember subscriptions, answer them and every right update
        builder.topology().addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(subscriptions),
            Serdes.ByteArray(), Serdes.ByteArray()));
        String registrationSource = base + "-registration-source";
        String subscriptionProcessor = base + "-subscription-processor";
        String responseSink = base + "-response-sink";
        builder.topology().addSource(registrationSource, null, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
            registration);
        builder.topology().addProcessor(subscriptionProcessor, () -> new ContextualProcessor<Object, Object, Object, Object>() {
            private KeyValueStore<byte[], byte[]> subs;
            private KeyValueStore<Object, Object> rights;
            private Serde<Object> foreignKeys;
            private Serde<Object> values;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                subs = context.getStateStore(subscriptions);
                rights = context.getStateStore(rightStore);
                foreignKeys = or(rightKeys, context.keySerde());
                values = or(rightValues, context.valueSerde());
            }

            @Override
            public void process(Record<Object, Object> record) {
                byte[] fkBytes = (byte[]) record.key();
                ByteBuffer v = ByteBuffer.wrap((byte[]) record.value());
                byte instruction = v.get();
                long hash = v.getLong();
                byte[] pk = Arrays.copyOfRange((byte[]) record.value(), 9, ((byte[]) record.value()).length);
                byte[] subKey = ByteBuffer.allocate(4 + fkBytes.length + pk.length).putInt(fkBytes.length).put(fkBytes).put(pk).array();
                if (instruction == UNSUBSCRIBE) {
                    subs.delete(subKey);
                    return;
                }
                subs.put(subKey, ByteBuffer.allocate(8).putLong(hash).array());
                Object rightValue = rights.get(foreignKeys.deserializer().deserialize(registration, fkBytes));
                byte[] rv = rightValue == null ? null : values.serializer().serialize(response, rightValue);
                context().forward(record.withKey(pk).withValue(responseValue(hash, rv)));
            }
        }, registrationSource);
        builder.topology().connectProcessorAndStateStores(subscriptionProcessor, subscriptions, rightStore);
        String rightUpdates = base + "-right-updates";
        builder.topology().addProcessor(rightUpdates, () -> new ContextualProcessor<Object, Object, Object, Object>() {
            private KeyValueStore<byte[], byte[]> subs;
            private Serde<Object> foreignKeys;
            private Serde<Object> values;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                subs = context.getStateStore(subscriptions);
                foreignKeys = or(rightKeys, context.keySerde());
                values = or(rightValues, context.valueSerde());
            }

            @Override
            public void process(Record<Object, Object> record) {
                byte[] fkBytes = foreignKeys.serializer().serialize(registration, record.key());
                Object newValue = ((Change<Object>) record.value()).newValue();
                byte[] rv = newValue == null ? null : values.serializer().serialize(response, newValue);
                byte[] prefix = ByteBuffer.allocate(4 + fkBytes.length).putInt(fkBytes.length).put(fkBytes).array();
                List<KeyValue<byte[], byte[]>> subscribers = new ArrayList<>();
                try (KeyValueIterator<byte[], byte[]> it = subs.range(prefix, null)) {
                    while (it.hasNext()) {
                        KeyValue<byte[], byte[]> e = it.next();
                        if (!Arrays.equals(e.key, 0, prefix.length, prefix, 0, prefix.length)) {
                            break;
                        }
                        subscribers.add(e);
                    }
                }
                for (KeyValue<byte[], byte[]> e : subscribers) {
                    byte[] pk = Arrays.copyOfRange(e.key, prefix.length, e.key.length);
                    context().forward(record.withKey(pk).withValue(responseValue(ByteBuffer.wrap(e.value).getLong(), rv)));
                }
            }
        }, right.nodeName());
        builder.topology().connectProcessorAndStateStores(rightUpdates, subscriptions);
        builder.topology().addSink(responseSink, response, null, Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(),
            null, subscriptionProcessor, rightUpdates);

        // 3. beside the left table: a response for the current left row emits the join
        String responseSource = base + "-response-source";
        String responseProcessor = base + "-response-processor";
        builder.topology().addSource(responseSource, null, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), response);
        builder.topology().addProcessor(responseProcessor, () -> new ContextualProcessor<Object, Object, Object, Object>() {
            private KeyValueStore<Object, Object> lefts;
            private Serde<Object> keys;
            private Serde<Object> values;
            private Serde<Object> otherValues;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                lefts = context.getStateStore(leftStore);
                keys = or(leftKeys, context.keySerde());
                values = or(leftValues, context.valueSerde());
                otherValues = or(rightValues, context.valueSerde());
            }

            @Override
            public void process(Record<Object, Object> record) {
                Object pk = keys.deserializer().deserialize(response, (byte[]) record.key());
                Object leftValue = lefts.get(pk);
                ByteBuffer v = ByteBuffer.wrap((byte[]) record.value());
                long hash = v.getLong();
                if (leftValue == null || hash != hash(values.serializer().serialize(registration, leftValue))) {
                    return; // the left row changed since it asked: its newer subscription will be answered
                }
                boolean hasValue = v.get() == 1;
                Object rightValue = hasValue
                    ? otherValues.deserializer().deserialize(response, Arrays.copyOfRange((byte[]) record.value(), 9, ((byte[]) record.value()).length))
                    : null;
                Object joined = rightValue == null && !leftJoin ? null : j.apply(leftValue, rightValue);
                context().forward(record.withKey(pk).withValue(new Change<>(joined, null)));
            }
        }, responseSource);
        builder.topology().connectProcessorAndStateStores(responseProcessor, leftStore);
        builder.topology().addProcessor(result, Processors.stateless((ctx, r) -> ctx.forward(r)), subscribe, responseProcessor);
        return new KTableImpl<>(builder, result, left.keySerde(), null, null, null);
    }

    private static Serde<Object> or(Serde<Object> serde, Serde<?> fallback) {
        return serde != null ? serde : (Serde<Object>) fallback;
    }

    private static byte[] responseValue(long hash, byte[] rightValue) {
        byte[] rv = rightValue == null ? new byte[0] : rightValue;
        return ByteBuffer.allocate(9 + rv.length).putLong(hash).put((byte) (rightValue == null ? 0 : 1)).put(rv).array();
    }

    /** 64-bit FNV-1a of the bytes: tells a response for the current left row from one for an older row. */
    private static long hash(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
