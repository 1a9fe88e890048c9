package io.weir.producer;

import io.weir.common.testing.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** Apache kafka-clients as the outside check: create topics with its Admin, read back with its consumer. */
final class KafkaInterop {
    private KafkaInterop() {
    }

    /**
     * The read_committed end offsets once they reach the read_uncommitted ones (the high watermarks): for a test
     * whose transactions have all ended. {@code commitTransaction()} returns once the commit is decided; the
     * markers that move the LSO past its records are written after, so an end offset read at once may stop short.
     */
    static <P> Map<P, Long> stableEndOffsets(Supplier<Map<P, Long>> committedEnds, Supplier<Map<P, Long>> highWatermarks) {
        AtomicReference<Map<P, Long>> end = new AtomicReference<>();
        try {
            Wait.until(() -> {
                end.set(committedEnds.get());
                return end.get().equals(highWatermarks.get());
            }, Duration.ofSeconds(60), () -> "the LSO to reach the high watermark: " + end.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        return end.get();
    }

    static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** Reads every record of {@code topic} from the beginning until {@code expected} arrived or the timeout. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic, int partitions, long expected,
                                                       Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            int emptyPollsAfterExpected = 0;
            while (System.currentTimeMillis() < deadline) {
                var recs = c.poll(Duration.ofMillis(200));
                recs.forEach(out::add);
                if (out.size() >= expected) {
                    // one more quiet poll to catch anything beyond (duplicates)
                    if (recs.isEmpty() && ++emptyPollsAfterExpected >= 2) {
                        break;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Every value of {@code topic} an Apache read_committed consumer sees, reading to its end offsets once every
     * transaction's markers are written (all transactions must have ended).
     */
    static List<String> readCommittedValues(String bootstrap, String topic, int partitions, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end;
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
            try (KafkaConsumer<byte[], byte[]> u = new KafkaConsumer<>(p)) {
                end = stableEndOffsets(() -> c.endOffsets(tps), () -> u.endOffsets(tps));
            }
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("Apache's consumer did not reach the end of " + topic + ": " + end);
                }
                c.poll(Duration.ofMillis(100)).forEach(r -> out.add(new String(r.value(),
                    java.nio.charset.StandardCharsets.UTF_8)));
            }
        }
        return out;
    }
}
