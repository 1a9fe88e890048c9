package io.weir.common.record;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The outside check of the batch format: batches written by Apache kafka-clients are read by Weir,
 * and batches written by Weir are read by kafka-clients, for every codec, field by field.
 */
class KafkaInteropTest {

    /** One record as both sides see it. */
    record Expected(long offset, long timestamp, byte[] key, byte[] value, String headerKey, byte[] headerValue) {
    }

    private static List<Expected> randomRecords(long seed, long baseOffset, int count) {
        Random rnd = new Random(seed);
        List<Expected> out = new ArrayList<>();
        long ts = 1_600_000_000_000L + rnd.nextInt(1_000_000);
        for (int i = 0; i < count; i++) {
            byte[] key = rnd.nextInt(10) == 0 ? null : bytes(rnd, rnd.nextInt(40));
            byte[] value = rnd.nextInt(10) == 0 ? null : bytes(rnd, rnd.nextInt(rnd.nextBoolean() ? 100 : 3000));
            byte[] hv = rnd.nextInt(5) == 0 ? null : bytes(rnd, rnd.nextInt(10));
            out.add(new Expected(baseOffset + i, ts + rnd.nextInt(5000) - 1000, key, value, "h" + rnd.nextInt(100), hv));
        }
        return out;
    }

    private static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        // compressible but not constant
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + rnd.nextInt(4));
        }
        return b;
    }

    private static org.apache.kafka.common.record.internal.CompressionType kafkaType(CompressionType t) {
        return org.apache.kafka.common.record.internal.CompressionType.forId(t.id);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReadBatchesBuiltByKafkaClients(CompressionType type) {
        for (long seed = 0; seed < 20; seed++) {
            List<Expected> expected = randomRecords(seed, 1_000 + seed, 1 + (int) (seed * 7));
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            MemoryRecordsBuilder kb = org.apache.kafka.common.record.internal.MemoryRecords.builder(buf, (byte) 2,
                Compression.of(kafkaType(type)).build(), org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                expected.get(0).offset(), -1L, 42L + seed, (short) 5, (int) seed * 3, false, 17);
            for (Expected e : expected) {
                kb.appendWithOffset(e.offset(), e.timestamp(), e.key(), e.value(),
                    new org.apache.kafka.common.header.Header[] {new RecordHeader(e.headerKey(), e.headerValue())});
            }
            ByteBuffer bytes = kb.build().buffer();

            Iterator<RecordBatch> batches = MemoryRecords.readableRecords(bytes).strictBatches().iterator();
            RecordBatch batch = batches.next();
            assertFalse(batches.hasNext());
            batch.ensureValid();
            assertEquals(type, batch.compressionType());
            assertEquals(42L + seed, batch.producerId());
            assertEquals(5, batch.producerEpoch());
            assertEquals((int) seed * 3, batch.baseSequence());
            assertEquals(17, batch.partitionLeaderEpoch());
            assertEquals(expected.size(), batch.recordCount());
            assertEquals(expected.get(expected.size() - 1).offset(), batch.lastOffset());
            assertEquals(expected.stream().mapToLong(Expected::timestamp).max().getAsLong(), batch.maxTimestamp());
            Iterator<Record> records = batch.records();
            for (Expected e : expected) {
                Record r = records.next();
                assertEquals(e.offset(), r.offset());
                assertEquals(e.timestamp(), r.timestamp());
                assertArrayEquals(e.key(), r.keyBytes());
                assertArrayEquals(e.value(), r.valueBytes());
                assertEquals(1, r.headers().length);
                assertEquals(e.headerKey(), r.headers()[0].key());
                assertArrayEquals(e.headerValue(), r.headers()[0].value());
            }
            assertFalse(records.hasNext());
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldWriteBatchesKafkaClientsCanRead(CompressionType type) {
        for (long seed = 0; seed < 20; seed++) {
            List<Expected> expected = randomRecords(seed, 500 + seed, 1 + (int) (seed * 7));
            RecordBatchBuilder wb = new RecordBatchBuilder(type).baseOffset(expected.get(0).offset())
                .producer(9L + seed, (short) 2, (int) seed).transactional(seed % 2 == 0).partitionLeaderEpoch(3);
            for (Expected e : expected) {
                wb.append(e.timestamp(), e.key(), e.value(), new Header(e.headerKey(), e.headerValue()));
            }
            ByteBuffer bytes = wb.build();

            org.apache.kafka.common.record.internal.MemoryRecords km =
                org.apache.kafka.common.record.internal.MemoryRecords.readableRecords(bytes);
            List<MutableRecordBatch> kbatches = new ArrayList<>();
            km.batches().forEach(kbatches::add);
            assertEquals(1, kbatches.size());
            MutableRecordBatch kb = kbatches.get(0);
            kb.ensureValid();
            assertEquals(type.id, kb.compressionType().id);
            assertEquals(9L + seed, kb.producerId());
            assertEquals(2, kb.producerEpoch());
            assertEquals((int) seed, kb.baseSequence());
            assertEquals(seed % 2 == 0, kb.isTransactional());
            assertEquals(3, kb.partitionLeaderEpoch());
            assertEquals(expected.get(expected.size() - 1).offset(), kb.lastOffset());
            assertEquals(expected.stream().mapToLong(Expected::timestamp).max().getAsLong(), kb.maxTimestamp());
            int i = 0;
            for (org.apache.kafka.common.record.internal.Record r : kb) {
                Expected e = expected.get(i++);
                assertEquals(e.offset(), r.offset());
                assertEquals(e.timestamp(), r.timestamp());
                assertArrayEquals(e.key(), r.key() == null ? null : toArray(r.key()));
                assertArrayEquals(e.value(), r.value() == null ? null : toArray(r.value()));
                assertEquals(1, r.headers().length);
                assertEquals(e.headerKey(), r.headers()[0].key());
                assertArrayEquals(e.headerValue(), r.headers()[0].value());
            }
            assertEquals(expected.size(), i);
        }
    }

    @Test
    void shouldExchangeTransactionMarkersBothWays() {
        ByteBuffer weir = new RecordBatchBuilder(CompressionType.NONE).baseOffset(30).producer(5L, (short) 1, -1)
            .transactional(true).appendControl(123L, ControlRecordType.ABORT, 8).build();
        MutableRecordBatch kb = org.apache.kafka.common.record.internal.MemoryRecords.readableRecords(weir)
            .batches().iterator().next();
        assertTrue(kb.isControlBatch());
        EndTransactionMarker marker = EndTransactionMarker.deserialize(kb.iterator().next());
        assertEquals(org.apache.kafka.common.record.internal.ControlRecordType.ABORT, marker.controlType());
        assertEquals(8, marker.coordinatorEpoch());

        ByteBuffer kafka = org.apache.kafka.common.record.internal.MemoryRecords.withEndTransactionMarker(77L, 123L, 4,
            5L, (short) 1, new EndTransactionMarker(org.apache.kafka.common.record.internal.ControlRecordType.COMMIT, 6))
            .buffer();
        RecordBatch batch = new RecordBatch(kafka);
        batch.ensureValid();
        assertTrue(batch.isControlBatch());
        assertTrue(batch.isTransactional());
        assertEquals(77L, batch.baseOffset());
        assertEquals(ControlRecordType.COMMIT, batch.controlType());
        Record r = batch.records().next();
        assertEquals(6, ControlRecordType.coordinatorEpoch(r.value()));
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
