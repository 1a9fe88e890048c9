package io.weir.producer.internals;

import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A batch keeps one future per record, in an array sized once for a full batch of like-sized records. */
class ProducerBatchTest {
    private static final Header[] NO_HEADERS = new Header[0];

    @Test
    void shouldSizeTheFuturesForAFullBatchOfRecordsLikeTheFirst() {
        ProducerBatch batch = batch(16_384);
        byte[] value = new byte[100];
        int estimate = ProducerBatch.estimateRecordSize(null, value, NO_HEADERS);
        int capacity = -1;
        while (batch.tryAppend(0, null, value, NO_HEADERS, null, estimate) != null) {
            if (capacity < 0) {
                capacity = batch.futuresCapacity();
            }
            assertEquals(capacity, batch.futuresCapacity(), "the futures array grew at record " + batch.recordCount());
        }
        assertTrue(batch.recordCount() > 100, "a 16 KB batch holds well over 100 such records");
        // and not grossly oversized either (later records take a byte or two more: larger offset deltas)
        assertTrue(capacity <= batch.recordCount() * 21 / 20, capacity + " slots for " + batch.recordCount() + " records");
        assertNull(batch.tryAppend(0, null, value, NO_HEADERS, null, estimate));
    }

    @Test
    void shouldBeFullAsSoonAsAnotherLikeSizedRecordWouldNotFit() {
        ProducerBatch batch = batch(16_384);
        byte[] value = new byte[1024];
        int estimate = ProducerBatch.estimateRecordSize(null, value, NO_HEADERS);
        assertFalse(batch.isFull(), "empty");
        int fullAt = -1;
        while (batch.tryAppend(0, null, value, NO_HEADERS, null, estimate) != null) {
            if (batch.isFull() && fullAt < 0) {
                fullAt = batch.recordCount();
            }
        }
        assertEquals(15, batch.recordCount(), "15 records of 1 KiB fit in 16 KiB");
        // sendable once the 15th is in, not only once a 16th was refused (that record may be 0.1 ms away)
        assertEquals(15, fullAt);
    }

    @Test
    void shouldNotBeFullWhileALikeSizedRecordStillFits() {
        ProducerBatch batch = batch(16_384);
        byte[] big = new byte[8_000];
        byte[] small = new byte[100];
        batch.tryAppend(0, null, big, NO_HEADERS, null, ProducerBatch.estimateRecordSize(null, big, NO_HEADERS));
        assertFalse(batch.isFull(), "another 8 KB record fits beside the first");
        batch.tryAppend(0, null, small, NO_HEADERS, null, ProducerBatch.estimateRecordSize(null, small, NO_HEADERS));
        // ~8.2 KB in, average ~4 KB: another average record still fits
        assertFalse(batch.isFull());
    }

    @Test
    void shouldLetALoneLargeRecordWaitForSmallerOnes() {
        ProducerBatch batch = batch(16_384);
        byte[] large = new byte[9_000];
        byte[] small = new byte[100];
        batch.tryAppend(0, null, large, NO_HEADERS, null, ProducerBatch.estimateRecordSize(null, large, NO_HEADERS));
        // another 9 KB record would not fit, but one record says nothing about the next: ~70 small ones still fit
        assertFalse(batch.isFull());
        batch.tryAppend(0, null, small, NO_HEADERS, null, ProducerBatch.estimateRecordSize(null, small, NO_HEADERS));
        assertFalse(batch.isFull());
    }

    @Test
    void shouldStayFullOnceFull() {
        ProducerBatch batch = batch(16_384);
        byte[] value = new byte[5_000];
        byte[] tiny = new byte[10];
        int estimate = ProducerBatch.estimateRecordSize(null, value, NO_HEADERS);
        batch.tryAppend(0, null, value, NO_HEADERS, null, estimate);
        batch.tryAppend(0, null, value, NO_HEADERS, null, estimate);
        batch.tryAppend(0, null, value, NO_HEADERS, null, estimate);
        assertTrue(batch.isFull(), "three 5 KB records: a fourth would not fit");
        // a tiny record still fits; the batch the sender was told about must not go back to waiting for linger.ms
        assertTrue(batch.tryAppend(0, null, tiny, NO_HEADERS, null,
            ProducerBatch.estimateRecordSize(null, tiny, NO_HEADERS)) != null);
        assertTrue(batch.isFull());
    }

    @Test
    void shouldBeFullExactlyWhenItWouldRefuseALikeRecordWhateverTheSize() {
        for (int size = 8; size <= 2_000; size++) {
            ProducerBatch batch = batch(16_384);
            byte[] value = new byte[size];
            int estimate = ProducerBatch.estimateRecordSize(null, value, NO_HEADERS);
            int fullAt = -1;
            while (batch.tryAppend(0, null, value, NO_HEADERS, null, estimate) != null) {
                if (batch.isFull() && fullAt < 0) {
                    fullAt = batch.recordCount();
                }
            }
            // "full" by the upper-bound estimate tryAppend uses: a batch within ~26 bytes of the limit must not
            // refuse the next record and yet say it is not full (it then waited for a new batch to open)
            assertEquals(batch.recordCount(), fullAt, size + "-byte records");
        }
    }

    private static ProducerBatch batch(int batchSize) {
        return new ProducerBatch(new TopicPartition("t", 0), CompressionType.NONE, CompressionType.NONE.defaultLevel,
            batchSize, ByteBuffer.allocate(batchSize), batchSize, 0);
    }
}
