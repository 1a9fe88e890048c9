package io.weir.consumer.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.Deserializers;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corrupt fetched data, fed to the fetcher as a response would queue it: the records before the
 * damage are handed out, then every poll fails at the same position until the application seeks past it.
 */
class FetcherCorruptDataTest {
    private final TopicPartition tp = new TopicPartition("t", 0);
    private final SubscriptionState subscriptions = new SubscriptionState(SubscriptionState.ResetStrategy.EARLIEST);

    private Fetcher<String, String> fetcher(boolean checkCrcs) {
        subscriptions.assignFromUser(Set.of(tp));
        subscriptions.seek(tp, 0L, null);
        return new Fetcher<>(null, Time.SYSTEM, subscriptions, new Waker(),
            new Fetcher.Settings(1, 1 << 20, 500, 1 << 20, checkCrcs, false, 30_000, null),
            new Deserializers.StringDeserializer(), new Deserializers.StringDeserializer());
    }

    private static ByteBuffer batch(long baseOffset, int count) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE).baseOffset(baseOffset);
        for (int i = 0; i < count; i++) {
            b.append(i, null, ("v" + (baseOffset + i)).getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    private static ByteBuffer concat(ByteBuffer... parts) {
        ByteBuffer out = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(ByteBuffer::remaining).sum());
        for (ByteBuffer p : parts) {
            out.put(p.duplicate());
        }
        return out.flip();
    }

    private List<String> values(Map<TopicPartition, List<ConsumerRecord<String, String>>> polled) {
        List<String> out = new ArrayList<>();
        polled.getOrDefault(tp, List.of()).forEach(r -> out.add(r.value()));
        return out;
    }

    @Test
    void shouldHandOutTheRecordsBeforeARecordThatCannotBeParsedThenFailEveryPollThere() {
        ByteBuffer second = batch(5, 5);
        // the header claims a sixth record the batch does not hold (structurally valid, CRC not checked)
        second.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 6);
        second.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 5);
        Fetcher<String, String> fetcher = fetcher(false);
        fetcher.queueRawFetch(tp, 0, concat(batch(0, 5), second));

        assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"), values(fetcher.collect(100)));
        assertEquals(10L, subscriptions.position(tp));
        for (int i = 0; i < 2; i++) {
            CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> fetcher.collect(100));
            assertTrue(e.getMessage().contains("offset 10"), e.getMessage());
            assertEquals(10L, subscriptions.position(tp));
        }
        subscriptions.seek(tp, 11L, null);   // the application skips the damage: the buffered data is stale
        assertEquals(List.of(), values(fetcher.collect(100)));
    }

    @Test
    void shouldFailEveryPollAtABatchWhoseCrcDoesNotMatch() {
        ByteBuffer second = batch(5, 5);
        second.put(second.limit() - 1, (byte) (second.get(second.limit() - 1) ^ 1));
        Fetcher<String, String> fetcher = fetcher(true);
        fetcher.queueRawFetch(tp, 0, concat(batch(0, 5), second, batch(10, 5)));

        assertEquals(List.of("v0", "v1", "v2", "v3", "v4"), values(fetcher.collect(100)));
        for (int i = 0; i < 3; i++) {
            CorruptRecordException e = assertThrows(CorruptRecordException.class, () -> fetcher.collect(100));
            assertTrue(e.getMessage().contains("offset 5"), e.getMessage());
            assertEquals(5L, subscriptions.position(tp));
        }
    }
}
