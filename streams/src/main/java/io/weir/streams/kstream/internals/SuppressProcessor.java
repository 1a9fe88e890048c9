package io.weir.streams.kstream.internals;

import io.weir.streams.KeyValue;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.KeyValueIterator;
import io.weir.streams.state.KeyValueStore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code suppress(untilWindowCloses)}: keeps the latest update of each window in a byte store and
 * emits it once the task's stream time reaches the window's end plus grace. Buffer layout:
 *
 * <pre>
 *   key:   | window end (8) | window start (8) | inner key bytes... |
 *   value: | record timestamp (8) | has value (1) | value bytes... |
 * </pre>
 *
 * End first, so the closed windows are one scan of the buffer's oldest prefix, in end order.
 */
final class SuppressProcessor {
    private static final int HEADER = 16;

    private SuppressProcessor() {
    }

    @SuppressWarnings("unchecked")
    static ProcessorSupplier<Object, Object, Object, Object> supplier(String bufferStore, long graceMs, Serde<Object> innerKeySerde,
                                                                     Serde<Object> valueSerde) {
        return () -> new ContextualProcessor<>() {
            private KeyValueStore<byte[], byte[]> buffer;
            private Serde<Object> keySerde;
            private Serde<Object> values;

            @Override
            public void init(ProcessorContext<Object, Object> context) {
                super.init(context);
                buffer = context.getStateStore(bufferStore);
                keySerde = innerKeySerde != null ? innerKeySerde : (Serde<Object>) context.keySerde();
                values = valueSerde != null ? valueSerde : (Serde<Object>) context.valueSerde();
            }

            @Override
            public void process(Record<Object, Object> record) {
                Windowed<Object> key = (Windowed<Object>) record.key();
                Object value = ((Change<Object>) record.value()).newValue();
                byte[] k = keySerde.serializer().serialize(bufferStore, key.key());
                byte[] bufferKey = ByteBuffer.allocate(HEADER + k.length).putLong(key.window().end())
                    .putLong(key.window().start()).put(k).array();
                byte[] v = value == null ? new byte[0] : values.serializer().serialize(bufferStore, value);
                buffer.put(bufferKey, ByteBuffer.allocate(9 + v.length).putLong(record.timestamp())
                    .put((byte) (value == null ? 0 : 1)).put(v).array());
                emitClosed(context().currentStreamTimeMs() - graceMs);
            }

            /** Emits and drops every buffered window with end <= closeTimeMs, oldest end first. */
            private void emitClosed(long closeTimeMs) {
                if (closeTimeMs < 0) {
                    return;
                }
                List<KeyValue<byte[], byte[]>> closed = new ArrayList<>();
                byte[] upper = ByteBuffer.allocate(8).putLong(closeTimeMs + 1).array();
                try (KeyValueIterator<byte[], byte[]> it = buffer.range(null, upper)) {
                    while (it.hasNext()) {
                        KeyValue<byte[], byte[]> e = it.next();
                        if (ByteBuffer.wrap(e.key).getLong() <= closeTimeMs) {
                            closed.add(e);
                        }
                    }
                }
                for (KeyValue<byte[], byte[]> e : closed) {
                    ByteBuffer key = ByteBuffer.wrap(e.key);
                    long end = key.getLong();
                    long start = key.getLong();
                    Object innerKey = keySerde.deserializer().deserialize(bufferStore, Arrays.copyOfRange(e.key, HEADER, e.key.length));
                    ByteBuffer value = ByteBuffer.wrap(e.value);
                    long timestamp = value.getLong();
                    Object newValue = value.get() == 0 ? null
                        : values.deserializer().deserialize(bufferStore, Arrays.copyOfRange(e.value, 9, e.value.length));
                    buffer.delete(e.key);
                    context().forward(new Record<>(new Windowed<>(innerKey, new TimeWindow(start, end)), new Change<>(newValue, null),
                        timestamp));
                }
            }
        };
    }
}
