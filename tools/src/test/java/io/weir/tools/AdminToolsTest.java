package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.ConfigEntry;
import io.weir.admin.LogDirDescription;
import io.weir.admin.ReplicaInfo;
import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.common.utils.Json;
import io.weir.tools.ToolRun.Result;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static io.weir.tools.ToolRun.assertUsageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * weir-delete-records.sh, weir-log-dirs.sh and weir-configs.sh: Kafka's flags (a bad one prints usage
 * and exits 1), Kafka's output shapes, and end to end against a real broker.
 */
class AdminToolsTest {
    private static final String NL = System.lineSeparator();
    private static Path dir;
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        dir = TempDirs.create("admin-tools");
        broker = new Broker(new BrokerConfig(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs",
            dir.resolve("logs").toString(), "auto.create.topics.enable", "false", "num.partitions", "1")));
        broker.startup();
        bootstrap = "127.0.0.1:" + broker.boundPort();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new io.weir.admin.NewTopic("recs", 2, (short) 1),
                new io.weir.admin.NewTopic("other", 1, (short) 1))).all().join();
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 8; i++) {
                producer.send(new ProducerRecord<>("recs", 0, "k" + i, "v" + i)).get();
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        broker.shutdown();
        broker.awaitShutdown();
        TempDirs.delete(dir);
    }

    private static Result noServer(ToolRun.Tool tool) {
        return ToolRun.capture(tool);
    }

    // ------------------------------------------------------------------ weir-delete-records.sh

    private static Result deleteRecords(String... args) {
        return ToolRun.capture((out, err) -> DeleteRecordsCommand.run(args, out, err, Admin::create));
    }

    @Test
    void deleteRecordsShouldRejectBadFlagsWithUsage() {
        assertUsageError(noServer((o, e) -> DeleteRecordsCommand.run(new String[] {"--bootstrap-server", "h:1", "--bogus"},
            o, e, p -> fail("no admin expected"))), "--bogus");
        assertUsageError(noServer((o, e) -> DeleteRecordsCommand.run(new String[] {"--bootstrap-server", "h:1"},
            o, e, p -> fail("no admin expected"))), "offset-json-file");
        assertUsageError(noServer((o, e) -> DeleteRecordsCommand.run(new String[] {"--offset-json-file", "f"},
            o, e, p -> fail("no admin expected"))), "bootstrap-server");
    }

    @Test
    void deleteRecordsShouldParseKafkasOffsetFile() {
        Map<TopicPartition, Long> m = DeleteRecordsCommand.parseOffsetJson(
            "{\"partitions\": [{\"topic\": \"a\", \"partition\": 1, \"offset\": 5}, {\"topic\":\"b\",\"partition\":0,"
                + "\"offset\":-1}], \"version\": 1}");
        Map<TopicPartition, Long> expected = new LinkedHashMap<>();
        expected.put(new TopicPartition("a", 1), 5L);
        expected.put(new TopicPartition("b", 0), -1L);
        assertEquals(expected, m);
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> DeleteRecordsCommand.parseOffsetJson(
            "{\"partitions\": [{\"topic\": \"a\", \"partition\": 1, \"offset\": 5}, {\"topic\": \"a\", \"partition\": 1,"
                + " \"offset\": 6}], \"version\": 1}"));
        assertTrue(dup.getMessage().contains("duplicate topic partitions: a-1"), dup.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeleteRecordsCommand.parseOffsetJson("{\"partitions\": [{]}"));
        assertThrows(IllegalArgumentException.class, () -> DeleteRecordsCommand.parseOffsetJson(
            "{\"partitions\": [{\"topic\": \"a\", \"partition\": \"x\", \"offset\": 5}]}"));
    }

    @Test
    void deleteRecordsShouldPrintEachPartitionsLowWatermarkOrError() throws Exception {
        Path file = dir.resolve("offsets.json");
        Files.writeString(file, "{\"partitions\": [{\"topic\": \"recs\", \"partition\": 0, \"offset\": 3},"
            + " {\"topic\": \"recs\", \"partition\": 1, \"offset\": 9}], \"version\": 1}");
        Result r = deleteRecords("--bootstrap-server", bootstrap, "--offset-json-file", file.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals("Executing records delete operation", lines.get(0));
        assertEquals("Records delete operation completed:", lines.get(1));
        assertEquals("partition: recs-0\tlow_watermark: 3", lines.get(2));
        assertTrue(lines.get(3).startsWith("partition: recs-1\terror: "), lines.get(3));
        assertTrue(lines.get(3).contains("OFFSET_OUT_OF_RANGE") || lines.get(3).contains("offset"), lines.get(3));
        assertEquals(3, broker.replicaManager().partition(new TopicPartition("recs", 0)).log().logStartOffset());

        Files.writeString(file, "not json");
        Result bad = deleteRecords("--bootstrap-server", bootstrap, "--offset-json-file", file.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("malformed JSON"), bad.err());
    }

    // ------------------------------------------------------------------ weir-log-dirs.sh

    private static Result logDirs(String... args) {
        return ToolRun.capture((out, err) -> LogDirsCommand.run(args, out, err, Admin::create));
    }

    @Test
    void logDirsShouldRejectBadFlagsWithUsage() {
        assertUsageError(noServer((o, e) -> LogDirsCommand.run(new String[] {"--bootstrap-server", "h:1"},
            o, e, p -> fail("no admin expected"))), "--describe");
        assertUsageError(noServer((o, e) -> LogDirsCommand.run(new String[] {"--bootstrap-server", "h:1", "--describe",
            "--broker-list", "a,b"}, o, e, p -> fail("no admin expected"))), "--broker-list");
        assertUsageError(noServer((o, e) -> LogDirsCommand.run(new String[] {"--describe", "--nope"},
            o, e, p -> fail("no admin expected"))), "--nope");
    }

    @Test
    void logDirsShouldPrintKafkasJsonDocument() {
        Map<TopicPartition, ReplicaInfo> replicas = new LinkedHashMap<>();
        replicas.put(new TopicPartition("t", 1), new ReplicaInfo(10, 0, false));
        replicas.put(new TopicPartition("t", 0), new ReplicaInfo(120, 2, false));
        replicas.put(new TopicPartition("u", 0), new ReplicaInfo(5, 0, true));
        Map<Integer, Map<String, LogDirDescription>> in = Map.of(0, Map.of("/data", new LogDirDescription(null, replicas, 100, 50)));
        assertEquals("{\"brokers\":[{\"broker\":0,\"logDirs\":[{\"partitions\":[{\"partition\":\"t-0\",\"size\":120,"
            + "\"offsetLag\":2,\"isFuture\":false},{\"partition\":\"t-1\",\"size\":10,\"offsetLag\":0,\"isFuture\":false}],"
            + "\"error\":null,\"logDir\":\"/data\"}]}],\"version\":1}",
            Json.write(LogDirsCommand.document(in, Set.of("t"))));
    }

    @Test
    void logDirsShouldDescribeTheBrokersDirectory() {
        Result r = logDirs("--bootstrap-server", bootstrap, "--describe", "--topic-list", "recs");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals("Querying brokers for log directories information", lines.get(0));
        assertEquals("Received log directory information from brokers 0", lines.get(1));
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) Json.parse(lines.get(2));
        assertEquals(1L, doc.get("version"));
        Map<?, ?> b = (Map<?, ?>) ((List<?>) doc.get("brokers")).get(0);
        assertEquals(0L, b.get("broker"));
        Map<?, ?> d = (Map<?, ?>) ((List<?>) b.get("logDirs")).get(0);
        assertEquals(dir.resolve("logs").toAbsolutePath().normalize().toString(), d.get("logDir"));
        List<?> parts = (List<?>) d.get("partitions");
        assertEquals(2, parts.size());
        Map<?, ?> p0 = (Map<?, ?>) parts.get(0);
        assertEquals("recs-0", p0.get("partition"));
        assertEquals(broker.replicaManager().partition(new TopicPartition("recs", 0)).log().sizeInBytes(), p0.get("size"));
        assertEquals(0L, p0.get("offsetLag"));
        assertEquals(false, p0.get("isFuture"));
        assertFalse(r.out().contains("\"other-0\""));

        Result named = logDirs("--bootstrap-server", bootstrap, "--describe", "--broker-list", "0");
        assertEquals(0, named.status(), named.err());
        assertTrue(named.out().contains("\"other-0\""), named.out());
        Result unknown = logDirs("--bootstrap-server", bootstrap, "--describe", "--broker-list", "0,7");
        assertEquals(1, unknown.status());
        assertEquals("ERROR: The given brokers do not exist from --broker-list: 7. Current existent brokers: 0",
            unknown.err().trim());
    }

    // ------------------------------------------------------------------ weir-configs.sh

    private static Result configs(String... args) {
        return ToolRun.capture((out, err) -> ConfigCommand.run(args, out, err, Admin::create));
    }

    private static Result configsNoServer(String... args) {
        return ToolRun.capture((out, err) -> ConfigCommand.run(args, out, err, p -> fail("no admin expected")));
    }

    @Test
    void configsShouldRejectBadFlagsWithUsage() {
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--entity-type", "topics", "--bogus"), "--bogus");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--entity-type", "topics"), "exactly one action");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--describe"), "entity type");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--describe", "--entity-type", "users"),
            "Invalid entity type users");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--alter", "--entity-type", "topics",
            "--add-config", "a=b"), "entity name");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--alter", "--entity-type", "topics",
            "--entity-name", "t"), "--add-config");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--alter", "--entity-type", "topics",
            "--entity-name", "t", "--add-config", "novalue"), "key=val");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--describe", "--entity-type", "brokers",
            "--entity-name", "x"), "valid integer broker id");
        assertUsageError(configsNoServer("--bootstrap-server", "h:1", "--alter", "--all", "--entity-type", "topics",
            "--entity-name", "t", "--add-config", "a=b"), "--all");
    }

    @Test
    void configsShouldParseKafkasAddConfigSyntaxAndFormatEntries() throws Exception {
        Map<String, String> m = ConfigCommand.parseAddConfig("a=1,b=[x,y,z],c=3");
        assertEquals(Map.of("a", "1", "b", "x,y,z", "c", "3"), m);
        ConfigEntry e = new ConfigEntry("retention.ms", "1000", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, false, false,
            List.of(new ConfigEntry.ConfigSynonym("retention.ms", "1000", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG),
                new ConfigEntry.ConfigSynonym("log.retention.ms", "604800000", ConfigEntry.ConfigSource.DEFAULT_CONFIG)));
        assertEquals("  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, "
            + "DEFAULT_CONFIG:log.retention.ms=604800000}", ConfigCommand.formatEntry(e));
    }

    @Test
    void configsShouldAlterAndDescribeTopicsAndDescribeBrokers() {
        Result r = configs("--bootstrap-server", bootstrap, "--entity-type", "topics", "--entity-name", "other", "--alter",
            "--add-config", "retention.ms=60000,compression.type=zstd,cleanup.policy=[delete,compact]");
        assertEquals(0, r.status(), r.err());
        assertEquals("Completed updating config for topic other." + NL, r.out());

        r = configs("--bootstrap-server", bootstrap, "--entity-type", "topics", "--entity-name", "other", "--describe");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals("Dynamic configs for topic other are:", lines.get(0));
        assertEquals(4, lines.size(), r.out());
        assertTrue(lines.get(1).startsWith("  cleanup.policy=delete,compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
            + "cleanup.policy=delete,compact, DEFAULT_CONFIG:log.cleanup.policy=delete}"), lines.get(1));
        assertTrue(lines.get(2).startsWith("  compression.type=zstd sensitive=false synonyms={"), lines.get(2));
        assertEquals("  retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000, "
            + "DEFAULT_CONFIG:log.retention.ms=604800000}", lines.get(3));

        r = configs("--bootstrap-server", bootstrap, "--topic", "other", "--alter", "--delete-config", "retention.ms");
        assertEquals(0, r.status(), r.err());
        r = configs("--bootstrap-server", bootstrap, "--topic", "other", "--describe", "--all");
        assertEquals("All configs for topic other are:", r.lines().get(0));
        assertTrue(r.out().contains("  retention.ms=604800000 sensitive=false synonyms={DEFAULT_CONFIG:"
            + "log.retention.ms=604800000}"), r.out());
        assertTrue(r.lines().size() > 35, r.out());

        // as Kafka 4.4's tool: deleting a key the broker does not know is the broker's error
        r = configs("--bootstrap-server", bootstrap, "--topic", "other", "--alter", "--delete-config", "nope");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("Unknown topic config name: nope"), r.err());
        r = configs("--bootstrap-server", bootstrap, "--topic", "other", "--alter", "--add-config", "no.such=1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no.such"), r.err());

        r = configs("--bootstrap-server", bootstrap, "--entity-type", "brokers", "--entity-name", "0", "--describe");
        assertEquals(0, r.status(), r.err());
        assertEquals("Dynamic configs for broker 0 are:" + NL, r.out());
        r = configs("--bootstrap-server", bootstrap, "--entity-type", "brokers", "--entity-name", "0", "--describe", "--all");
        assertEquals("All configs for broker 0 are:", r.lines().get(0));
        assertTrue(r.out().contains("  auto.create.topics.enable=false sensitive=false synonyms={STATIC_BROKER_CONFIG:"
            + "auto.create.topics.enable=false, DEFAULT_CONFIG:auto.create.topics.enable=true}"), r.out());
        r = configs("--bootstrap-server", bootstrap, "--broker", "0", "--alter", "--add-config", "num.partitions=3");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("static"), r.err());
    }
}
