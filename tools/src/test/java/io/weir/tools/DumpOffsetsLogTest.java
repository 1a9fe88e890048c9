package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.consumer.ConsumerConfig;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerConfig;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weir-dump-log.sh {@code --offsets-decoder} on a real broker's {@code __consumer_offsets}: a consumer
 * group's metadata (with its member's subscription and assignment decoded) and its committed offset,
 * in the JSON shape Kafka's tool prints.
 */
@Timeout(120)
class DumpOffsetsLogTest {
    private static Result run(String... args) {
        return ToolRun.capture((out, err) -> DumpLogSegments.run(args, out, err));
    }

    @Test
    void shouldDecodeAGroupsMetadataAndCommittedOffset() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of("offsets.topic.num.partitions", "1",
            "group.initial.rebalance.delay.ms", "0")).start()) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get();
            }
            try (WeirProducer<String, String> p = new WeirProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers()), new Serializers.StringSerializer(), new Serializers.StringSerializer())) {
                p.send(new ProducerRecord<>("orders", 0, "k", "v")).get();
            }
            Map<String, Object> c = new HashMap<>();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            c.put(ConsumerConfig.GROUP_ID_CONFIG, "dump-group");
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            try (WeirConsumer<String, String> consumer = new WeirConsumer<>(c, new Deserializers.StringDeserializer(),
                new Deserializers.StringDeserializer())) {
                consumer.subscribe(List.of("orders"));
                int read = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (read == 0) {
                    assertTrue(System.nanoTime() - deadline < 0, "the group's consumer read nothing of orders in 60 s");
                    read = consumer.poll(Duration.ofMillis(200)).count();
                }
                consumer.commitSync();
            }

            Path segment;
            try (Stream<Path> s = Files.list(broker.logDir().resolve("__consumer_offsets-0"))) {
                segment = s.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().findFirst().orElseThrow();
            }
            Result r = run("--files", segment.toString(), "--offsets-decoder");
            assertEquals(0, r.status(), r.err());
            List<String> records = r.lines().stream().filter(l -> l.startsWith("| ")).toList();
            assertFalse(records.isEmpty(), r.out());

            String offset = records.stream().filter(l -> l.contains(" key: {\"type\":\"1\"")).findFirst()
                .orElseThrow(() -> new AssertionError("no offset commit in\n" + r.out()));
            assertTrue(offset.contains(" key: {\"type\":\"1\",\"data\":{\"group\":\"dump-group\",\"topic\":\"orders\","
                + "\"partition\":0}} payload: {\"version\":\"3\",\"data\":{\"offset\":1,\"leaderEpoch\":"), offset);
            assertTrue(offset.matches(".*\"metadata\":\"\",\"commitTimestamp\":\\d+}}$"), offset);

            String group = records.stream().filter(l -> l.contains(" key: {\"type\":\"2\"") && l.contains("\"members\":[{"))
                .reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError("no group metadata with a member in\n" + r.out()));
            assertTrue(group.contains(" key: {\"type\":\"2\",\"data\":{\"group\":\"dump-group\"}} payload: "
                + "{\"version\":\"3\",\"data\":{\"protocolType\":\"consumer\",\"generation\":1,"), group);
            assertTrue(group.contains("\"subscription\":{\"topics\":[\"orders\"],\"userData\":"), group);
            assertTrue(group.contains("\"assignment\":{\"assignedPartitions\":[{\"topic\":\"orders\",\"partitions\":[0]}],"),
                group);
        }
    }

    @Test
    void shouldRefuseBothDecodersAtOnce() {
        Result r = run("--files", "x.log", "--offsets-decoder", "--transaction-log-decoder");
        assertEquals(2, r.status(), r.out());
        assertTrue(r.err().contains("cannot be used together") && r.err().contains("Usage: weir-dump-log.sh"), r.err());
    }
}
