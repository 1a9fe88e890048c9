package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.coordinator.runtime.SerializedRecord;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.TransactionWaits;
import io.weir.broker.transaction.TransactionMetadata;
import io.weir.broker.transaction.TransactionRecords;
import io.weir.broker.transaction.TransactionState;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.producer.ProducerConfig;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weir-dump-log.sh on transactional data: the COMMIT marker and transactional batches of a partition
 * a Weir producer wrote to, and {@code --transaction-log-decoder} on {@code __transaction_state}
 * records, both written by the broker's own serde and by a real broker's coordinator.
 */
@Timeout(120)
class DumpTransactionLogTest {
    @TempDir
    Path dir;

    private static Result run(String... args) {
        return ToolRun.capture((out, err) -> DumpLogSegments.run(args, out, err));
    }

    private static ByteBuffer batchOf(long baseOffset, SerializedRecord... records) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE).baseOffset(baseOffset);
        for (SerializedRecord r : records) {
            b.append(7L, bytes(r.key()), r.value() == null ? null : bytes(r.value()));
        }
        return b.build();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void shouldDecodeTheBrokersTransactionRecordsAsKafkaPrintsThem() throws IOException {
        TransactionMetadata ongoing = new TransactionMetadata("txn-a", 42L, -1L, -1L, (short) 3, (short) -1, 60_000,
            TransactionState.ONGOING, Set.of(new TopicPartition("t", 1), new TopicPartition("t", 0),
            new TopicPartition("u", 5)), 1_000L, 1_500L, (byte) 2);
        TransactionMetadata fenced = new TransactionMetadata("txn-b", 43L, 41L, 44L, (short) 0, (short) 9, 1,
            TransactionState.PREPARE_EPOCH_FENCE, Set.of(), -1L, 2_000L, (byte) 0);
        Path log = dir.resolve("00000000000000000000.log");
        Files.write(log, bytes(batchOf(0,
            TransactionRecords.SERDE.serialize(new TransactionRecords.TransactionRecord("txn-a", ongoing)),
            TransactionRecords.SERDE.serialize(new TransactionRecords.TransactionRecord("txn-b", fenced)),
            TransactionRecords.SERDE.serialize(new TransactionRecords.TransactionRecord("txn-c", null)))));

        Result r = run("--files", log.toString(), "--transaction-log-decoder");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals(6, lines.size(), r.out());
        assertTrue(lines.get(3).endsWith(" key: {\"type\":\"0\",\"data\":{\"transactionalId\":\"txn-a\"}} payload: "
            + "{\"version\":\"1\",\"data\":{\"producerId\":42,\"producerEpoch\":3,\"transactionTimeoutMs\":60000,"
            + "\"transactionStatus\":\"Ongoing\",\"transactionPartitions\":[{\"topic\":\"t\",\"partitionIds\":[0,1]},"
            + "{\"topic\":\"u\",\"partitionIds\":[5]}],\"transactionLastUpdateTimestampMs\":1500,"
            + "\"transactionStartTimestampMs\":1000,\"clientTransactionVersion\":2}}"), lines.get(3));
        assertTrue(lines.get(3).startsWith("| offset: 0 CreateTime: 7 keySize: 9 valueSize: "), lines.get(3));
        assertTrue(lines.get(4).endsWith(" key: {\"type\":\"0\",\"data\":{\"transactionalId\":\"txn-b\"}} payload: "
            + "{\"version\":\"1\",\"data\":{\"producerId\":43,\"previousProducerId\":41,\"nextProducerId\":44,"
            + "\"producerEpoch\":0,\"lastProducerEpoch\":9,\"transactionTimeoutMs\":1,"
            + "\"transactionStatus\":\"PrepareEpochFence\",\"transactionPartitions\":[],"
            + "\"transactionLastUpdateTimestampMs\":2000,\"transactionStartTimestampMs\":-1}}"), lines.get(4));
        assertTrue(lines.get(5).endsWith(" key: {\"type\":\"0\",\"data\":{\"transactionalId\":\"txn-c\"}} payload: <DELETE>"),
            lines.get(5));
    }

    @Test
    void shouldReportRecordsItCannotDecodeAndGoOn() throws IOException {
        SerializedRecord good = TransactionRecords.SERDE.serialize(new TransactionRecords.TransactionRecord("ok", null));
        ByteBuffer truncatedValue = TransactionRecords.SERDE.serialize(new TransactionRecords.TransactionRecord("cut",
            new TransactionMetadata("cut", 1L, -1L, -1L, (short) 0, (short) -1, 10, TransactionState.EMPTY, Set.of(),
                -1L, 5L, (byte) 0))).value();
        truncatedValue.limit(12);
        Path log = dir.resolve("00000000000000000000.log");
        Files.write(log, bytes(batchOf(0,
            new SerializedRecord(ByteBuffer.wrap(new byte[] {0, 9, 0, 1, 'x'}), null),
            new SerializedRecord(TransactionRecords.SERDE.serialize(new TransactionRecords.TransactionRecord("cut", null))
                .key(), truncatedValue),
            good)));
        Result r = run("--files", log.toString(), "--transaction-log-decoder");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertTrue(lines.get(3).endsWith(" key: Unknown record type 9 at offset 0, skipping."), lines.get(3));
        assertTrue(lines.get(4).endsWith(" key: Error at offset 1, skipping. the record ends too early"), lines.get(4));
        assertTrue(lines.get(5).endsWith("\"ok\"}} payload: <DELETE>"), lines.get(5));
    }

    /**
     * A real broker: a Weir producer commits a transaction; the data partition's segment shows the
     * transactional batch and the COMMIT marker, the coordinator's segment decodes to the id's states.
     */
    @Test
    void shouldDumpARealBrokersCommitMarkerAndTransactionLog() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "1")).start()) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("dumped", 1, (short) 1))).all().get();
            }
            Map<String, Object> p = new HashMap<>();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "dump-txn");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000L);
            try (WeirProducer<String, String> producer = new WeirProducer<>(p, new Serializers.StringSerializer(),
                new Serializers.StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("dumped", 0, "k", "v")).get();
                producer.commitTransaction();
            }
            // commitTransaction returns once PrepareCommit is in the log; the markers and CompleteCommit follow
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                TransactionWaits.awaitEnded("dump-txn",
                    () -> admin.describeTransactions(List.of("dump-txn")).all().get().get("dump-txn").state());
            }
            Result data = run("--files", segment(broker.logDir().resolve("dumped-0")).toString(), "--print-data-log");
            assertEquals(0, data.status(), data.err());
            List<String> lines = data.lines();
            assertTrue(lines.get(2).startsWith("baseOffset: 0 lastOffset: 0 count: 1 baseSequence: 0 lastSequence: 0"),
                data.out());
            assertTrue(lines.get(2).contains(" isTransactional: true isControl: false "), lines.get(2));
            assertTrue(lines.get(3).endsWith("key: k payload: v"), lines.get(3));
            assertTrue(lines.get(4).startsWith("baseOffset: 1 lastOffset: 1 count: 1"), lines.get(4));
            assertTrue(lines.get(4).contains(" isTransactional: true isControl: true "), lines.get(4));
            assertTrue(lines.get(5).matches("\\| offset: 1 .* endTxnMarker: COMMIT coordinatorEpoch: \\d+"), lines.get(5));

            Result txnLog = run("--files", segment(broker.logDir().resolve("__transaction_state-0")).toString(),
                "--transaction-log-decoder");
            assertEquals(0, txnLog.status(), txnLog.err());
            List<String> states = new ArrayList<>();
            for (String line : txnLog.lines()) {
                if (line.startsWith("| ")) {
                    assertTrue(line.contains(" key: {\"type\":\"0\",\"data\":{\"transactionalId\":\"dump-txn\"}} payload: "),
                        line);
                    int at = line.indexOf("\"transactionStatus\":\"");
                    assertTrue(at > 0, line);
                    states.add(line.substring(at + 21, line.indexOf('"', at + 21)));
                }
            }
            assertEquals("Empty", states.get(0), "initTransactions: " + states);
            assertTrue(states.contains("Ongoing") && states.contains("PrepareCommit"), states.toString());
            assertEquals("CompleteCommit", states.get(states.size() - 1), "the commit finished: " + states);
            assertTrue(txnLog.out().contains("{\"topic\":\"dumped\",\"partitionIds\":[0]}"), txnLog.out());
        }
    }

    private static Path segment(Path partitionDir) throws IOException {
        try (Stream<Path> s = Files.list(partitionDir)) {
            List<Path> logs = s.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
            assertFalse(logs.isEmpty(), "no segment in " + partitionDir);
            return logs.get(0);
        }
    }
}
