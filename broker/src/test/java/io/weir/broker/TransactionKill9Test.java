package io.weir.broker;

import io.weir.broker.testing.BrokerProcess;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordinator's broker process is killed with SIGKILL right after a commit was answered (the
 * PrepareCommit record is durable; its markers may or may not be written): after the restart every
 * committed transaction is visible to read_committed consumers and the LSO reaches the high watermark.
 */
class TransactionKill9Test {
    @TempDir
    Path dir;

    @Test
    void shouldCompleteEveryCommittedTransactionAfterKill9() throws Exception {
        try (BrokerProcess broker = new BrokerProcess(dir)) {
            broker.start("transaction.state.log.num.partitions=1", "num.partitions=1");
            Properties pp = new Properties();
            pp.put("bootstrap.servers", broker.bootstrapServers());
            pp.put("transactional.id", "kill9");
            pp.put("linger.ms", "2");
            List<String> committed = new ArrayList<>();
            try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                p.initTransactions();
                for (int t = 0; t < 5; t++) {
                    p.beginTransaction();
                    for (int i = 0; i < 100; i++) {
                        p.send(new ProducerRecord<>("kill9", 0, null, t + "-" + i));
                        committed.add(t + "-" + i);
                    }
                    p.commitTransaction();
                }
                broker.kill(); // right after the last EndTxn was answered
            }
            broker.start("transaction.state.log.num.partitions=1", "num.partitions=1");
            Properties cp = new Properties();
            cp.put("bootstrap.servers", broker.bootstrapServers());
            cp.put("isolation.level", "read_committed");
            TopicPartition tp = new TopicPartition("kill9", 0);
            List<String> seen = new ArrayList<>();
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
                c.assign(List.of(tp));
                c.seek(tp, 0);
                long deadline = System.currentTimeMillis() + 120_000; // a restarted broker process: generous under load
                while (seen.size() < committed.size()) {
                    assertTrue(System.currentTimeMillis() < deadline, "saw " + seen.size() + " of " + committed.size()
                        + " committed records after the restart");
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        seen.add(r.value());
                    }
                }
                assertEquals(committed, seen);
                // (a marker may be in the log twice: written before the kill, and again by the restarted coordinator)
                Properties up = new Properties();
                up.put("bootstrap.servers", broker.bootstrapServers());
                try (KafkaConsumer<String, String> u = new KafkaConsumer<>(up, new StringDeserializer(),
                    new StringDeserializer())) {
                    long highWatermark = u.endOffsets(List.of(tp)).get(tp);
                    assertTrue(highWatermark >= 505, "500 records and 5 markers, got " + highWatermark);
                    while (c.endOffsets(List.of(tp)).get(tp) != highWatermark) {
                        assertTrue(System.currentTimeMillis() < deadline, "the LSO stays below " + highWatermark);
                    }
                }
            }
        }
    }
}
