package io.weir.compat;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.weir.compat.KafkaTool.CONFIGS;
import static io.weir.compat.KafkaTool.CONSOLE_CONSUMER;
import static io.weir.compat.KafkaTool.CONSUMER_GROUPS;
import static io.weir.compat.KafkaTool.CONSOLE_PRODUCER;
import static io.weir.compat.KafkaTool.DELETE_RECORDS;
import static io.weir.compat.KafkaTool.GET_OFFSETS;
import static io.weir.compat.KafkaTool.LEADER_ELECTION;
import static io.weir.compat.KafkaTool.LOG_DIRS;
import static io.weir.compat.KafkaTool.TOPICS;
import static io.weir.compat.KafkaTool.TRANSACTIONS;
import static io.weir.compat.KafkaTool.VERIFIABLE_CONSUMER;
import static io.weir.compat.KafkaTool.VERIFIABLE_PRODUCER;
import static io.weir.compat.KafkaTool.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache Kafka's own command-line tools (the kafka-tools jar, each in a forked JVM) against one Weir broker. Each
 * exits 0 and prints what it prints against Kafka; the assertions pin the lines a user or a script reads.
 */
class KafkaToolsCompatibilityTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0"));
    private static String bootstrap;

    @BeforeAll
    static void start() {
        bootstrap = BROKER.bootstrapServers();
    }

    /** Guards a kafka-tools upgrade: the disabled tests too must find their tool where this class says it is. */
    @Test
    void everyToolShouldBeOnTheToolClasspath() throws Exception {
        for (String tool : List.of(TOPICS, CONFIGS, CONSOLE_PRODUCER, CONSOLE_CONSUMER, CONSUMER_GROUPS, GET_OFFSETS,
                VERIFIABLE_PRODUCER, VERIFIABLE_CONSUMER, DELETE_RECORDS, LOG_DIRS, LEADER_ELECTION, TRANSACTIONS)) {
            assertEquals("main", Class.forName(tool).getMethod("main", String[].class).getName(), tool);
        }
    }

    @Test
    void kafkaTopicsShouldCreateListDescribeAlterAndDelete() throws Exception {
        String created = ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-topics",
                "--partitions", "2", "--replication-factor", "1", "--config", "retention.ms=86400000").stdout();
        assertTrue(created.contains("Created topic kt-topics."), created);

        List<String> listed = ok(TOPICS, null, "--bootstrap-server", bootstrap, "--list").stdoutLines();
        assertTrue(listed.contains("kt-topics"), listed.toString());

        List<String> described = ok(TOPICS, null, "--bootstrap-server", bootstrap, "--describe",
                "--topic", "kt-topics").stdoutLines();
        assertEquals(3, described.size(), described.toString());
        // Kafka 4.4 (KRaft) also lists min.insync.replicas=1 here, a cluster-level dynamic default there
        assertTrue(described.get(0).matches("Topic: kt-topics\tTopicId: \\S{22}\tPartitionCount: 2\t"
                + "ReplicationFactor: 1\tConfigs: (.*,)?retention.ms=86400000(,.*)?"), described.get(0));
        for (int p = 0; p < 2; p++) {
            assertTrue(described.get(1 + p).startsWith("\tTopic: kt-topics\tPartition: " + p
                    + "\tLeader: 0\tReplicas: 0\tIsr: 0"), described.get(1 + p));
        }

        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--alter", "--topic", "kt-topics", "--partitions", "3");
        String after = ok(TOPICS, null, "--bootstrap-server", bootstrap, "--describe", "--topic", "kt-topics")
                .stdout();
        assertTrue(after.contains("PartitionCount: 3"), after);
        assertTrue(after.contains("\tTopic: kt-topics\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0"), after);

        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--delete", "--topic", "kt-topics");
        List<String> remaining = ok(TOPICS, null, "--bootstrap-server", bootstrap, "--list").stdoutLines();
        assertFalse(remaining.contains("kt-topics"), remaining.toString());
    }

    @Test
    void consoleProducerAndConsumerShouldRoundTripKeyedRecordsAndIncludeByRegex() throws Exception {
        for (String topic : List.of("kt-console-a", "kt-console-b")) {
            ok(CONSOLE_PRODUCER, lines(topic, 5), "--bootstrap-server", bootstrap, "--topic", topic,
                    "--compression-codec", "zstd",
                    "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        }
        ForkedProcess.Result one = ok(CONSOLE_CONSUMER, null, "--bootstrap-server", bootstrap,
                "--topic", "kt-console-a", "--from-beginning", "--max-messages", "5", "--timeout-ms", "30000",
                "--formatter-property", "print.key=true");
        assertEquals(List.of("k0\tkt-console-a 0", "k1\tkt-console-a 1", "k2\tkt-console-a 2",
                "k3\tkt-console-a 3", "k4\tkt-console-a 4"), one.stdoutLines());
        assertTrue(one.stderr().contains("Processed a total of 5 messages"), one.stderr());

        // --include subscribes by pattern: the client matches it against all-topics metadata
        ForkedProcess.Result both = ok(CONSOLE_CONSUMER, null, "--bootstrap-server", bootstrap,
                "--include", "kt-console-.*", "--from-beginning", "--max-messages", "10", "--timeout-ms", "30000");
        List<String> values = both.stdoutLines().stream().sorted().toList();
        assertEquals(10, values.size(), both.toString());
        assertEquals("kt-console-a 0", values.get(0));
        assertEquals("kt-console-b 4", values.get(9));
    }

    @Test
    void kafkaGetOffsetsShouldPrintLatestAndEarliestOffsets() throws Exception {
        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-offsets",
                "--partitions", "2", "--replication-factor", "1");
        ok(CONSOLE_PRODUCER, lines("kt-offsets", 7), "--bootstrap-server", bootstrap, "--topic", "kt-offsets",
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        List<String> latest = ok(GET_OFFSETS, null, "--bootstrap-server", bootstrap, "--topic", "kt-offsets")
                .stdoutLines();
        assertEquals(2, latest.size(), latest.toString());
        long total = 0;
        for (int p = 0; p < 2; p++) {
            assertTrue(latest.get(p).startsWith("kt-offsets:" + p + ":"), latest.toString());
            total += Long.parseLong(latest.get(p).substring(("kt-offsets:" + p + ":").length()));
        }
        assertEquals(7, total, latest.toString());

        List<String> earliest = ok(GET_OFFSETS, null, "--bootstrap-server", bootstrap,
                "--topic-partitions", "kt-offsets:0,kt-offsets:1", "--time", "earliest").stdoutLines();
        assertEquals(List.of("kt-offsets:0:0", "kt-offsets:1:0"), earliest);
    }

    @Test
    void kafkaConsumerGroupsShouldListDescribeResetAndDelete() throws Exception {
        ok(CONSOLE_PRODUCER, lines("kt-groups", 6), "--bootstrap-server", bootstrap, "--topic", "kt-groups",
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        // a console consumer in a group commits its position when it stops
        ok(CONSOLE_CONSUMER, null, "--bootstrap-server", bootstrap, "--topic", "kt-groups", "--group", "kt-group",
                "--from-beginning", "--max-messages", "6", "--timeout-ms", "30000");

        List<String> groups = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--list").stdoutLines();
        assertTrue(groups.contains("kt-group"), groups.toString());

        ForkedProcess.Result described = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--describe",
                "--group", "kt-group");
        assertTrue(described.stderr().contains("Consumer group 'kt-group' has no active members."),
                described.toString());
        assertEquals(List.of("kt-group", "kt-groups", "0", "6", "6", "0", "-", "-", "-"),
                row(described.stdoutLines(), "GROUP"), described.toString());

        ForkedProcess.Result reset = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--reset-offsets",
                "--group", "kt-group", "--topic", "kt-groups", "--to-earliest", "--execute");
        assertEquals(List.of("kt-group", "kt-groups", "0", "0"), row(reset.stdoutLines(), "GROUP"), reset.toString());
        ForkedProcess.Result afterReset = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--describe",
                "--group", "kt-group");
        assertEquals(List.of("kt-group", "kt-groups", "0", "0", "6", "6", "-", "-", "-"),
                row(afterReset.stdoutLines(), "GROUP"), afterReset.toString());

        ForkedProcess.Result state = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--describe",
                "--group", "kt-group", "--state");
        List<String> stateRow = row(state.stdoutLines(), "GROUP");
        assertEquals("kt-group", stateRow.get(0), state.toString());
        assertTrue(stateRow.contains("Empty"), state.toString());

        String deleted = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--delete", "--group", "kt-group")
                .stdout();
        assertTrue(deleted.contains("Deletion of requested consumer groups ('kt-group') was successful."), deleted);
        List<String> left = ok(CONSUMER_GROUPS, null, "--bootstrap-server", bootstrap, "--list").stdoutLines();
        assertFalse(left.contains("kt-group"), left.toString());
    }

    @Test
    void verifiableProducerAndConsumerShouldAckAndConsumeEveryRecord() throws Exception {
        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-verifiable",
                "--partitions", "2", "--replication-factor", "1");
        ForkedProcess.Result produced = ok(VERIFIABLE_PRODUCER, null, "--bootstrap-server", bootstrap,
                "--topic", "kt-verifiable", "--max-messages", "200");
        List<String> events = produced.stdoutLines();
        assertEquals(200, events.stream().filter(e -> e.contains("\"name\":\"producer_send_success\"")).count(),
                produced.toString());
        assertTrue(events.stream().noneMatch(e -> e.contains("\"name\":\"producer_send_error\"")),
                produced.toString());
        String toolData = events.stream().filter(e -> e.contains("\"name\":\"tool_data\"")).findFirst().orElseThrow();
        assertTrue(toolData.contains("\"sent\":200") && toolData.contains("\"acked\":200"), toolData);

        ForkedProcess.Result consumed = ok(VERIFIABLE_CONSUMER, null, "--bootstrap-server", bootstrap,
                "--topic", "kt-verifiable", "--group-id", "kt-verifiable-group", "--max-messages", "200",
                "--reset-policy", "earliest");
        List<String> consumerEvents = consumed.stdoutLines();
        long records = 0;
        for (String e : consumerEvents) {
            if (e.contains("\"name\":\"records_consumed\"")) {
                Matcher m = Pattern.compile("\"count\":(\\d+)").matcher(e);
                assertTrue(m.find(), e);
                records += Long.parseLong(m.group(1));
            }
        }
        assertEquals(200, records, consumed.toString());
        assertTrue(consumerEvents.stream().anyMatch(e -> e.contains("\"name\":\"partitions_assigned\"")),
                consumed.toString());
        assertTrue(consumerEvents.stream().anyMatch(e -> e.contains("\"name\":\"offsets_committed\"")
                && e.contains("\"success\":true")), consumed.toString());
        assertTrue(consumerEvents.stream().noneMatch(e -> e.contains("\"success\":false")), consumed.toString());
        assertTrue(consumerEvents.stream().anyMatch(e -> e.contains("\"name\":\"shutdown_complete\"")),
                consumed.toString());
    }

    @Test
    void kafkaConfigsShouldDescribeAndAlterTopicConfigs() throws Exception {
        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-configs",
                "--partitions", "1", "--replication-factor", "1", "--config", "retention.ms=86400000");
        List<String> dynamic = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-configs", "--describe").stdoutLines();
        assertEquals(2, dynamic.size(), dynamic.toString());
        assertEquals("Dynamic configs for topic kt-configs are:", dynamic.get(0));
        // the synonyms are checked by kafkaConfigsShouldListSynonyms
        assertTrue(dynamic.get(1).startsWith("  retention.ms=86400000 sensitive=false synonyms={"), dynamic.toString());

        String altered = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-configs", "--alter",
                "--add-config", "retention.ms=3600000,max.message.bytes=2000000")
                .stdout();
        assertTrue(altered.contains("Completed updating config for topic kt-configs."), altered);
        String deleted = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-configs", "--alter", "--delete-config", "max.message.bytes").stdout();
        assertTrue(deleted.contains("Completed updating config for topic kt-configs."), deleted);

        List<String> all = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-configs", "--describe", "--all").stdoutLines();
        assertEquals("All configs for topic kt-configs are:", all.get(0), all.toString());
        assertTrue(all.stream().anyMatch(l -> l.startsWith("  retention.ms=3600000 sensitive=false synonyms={")),
                all.toString());
        assertTrue(all.stream().anyMatch(l -> l.startsWith("  max.message.bytes=") && !l.contains("DYNAMIC_TOPIC")),
                all.toString());
        assertTrue(all.stream().anyMatch(l -> l.startsWith("  cleanup.policy=delete sensitive=false")), all.toString());
    }

    @Test
    void kafkaConfigsShouldDescribeTheBroker() throws Exception {
        List<String> all = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "brokers",
                "--entity-name", "0", "--describe", "--all").stdoutLines();
        assertEquals("All configs for broker 0 are:", all.get(0), all.toString());
        for (String line : List.of("  broker.id=0 sensitive=false synonyms={",
                "  log.dirs=" + BROKER.logDir() + " sensitive=false synonyms={",
                "  group.initial.rebalance.delay.ms=0 sensitive=false synonyms={")) {
            assertTrue(all.stream().anyMatch(l -> l.startsWith(line)), line + " not in " + all);
        }
    }

    @Test
    @Disabled("DescribeConfigs synonyms differ from Kafka 4.4.0's (issue 10, bug 2): for retention.ms Weir adds "
            + "DEFAULT_CONFIG:log.retention.ms=604800000; Kafka lists a topic config's broker synonyms from its first "
            + "broker name on, and log.retention.ms has no default, so only the topic's own value. Kafka prints exactly "
            + "these lines")
    void kafkaConfigsShouldListSynonyms() throws Exception {
        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-synonyms",
                "--partitions", "1", "--replication-factor", "1", "--config", "retention.ms=86400000");
        List<String> dynamic = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-synonyms", "--describe").stdoutLines();
        assertEquals(List.of("Dynamic configs for topic kt-synonyms are:",
                "  retention.ms=86400000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}"),
                dynamic);
        List<String> all = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-synonyms", "--describe", "--all").stdoutLines();
        for (String line : List.of(
                "  cleanup.policy=delete sensitive=false synonyms={DEFAULT_CONFIG:log.cleanup.policy=delete}",
                "  max.message.bytes=1048588 sensitive=false synonyms={DEFAULT_CONFIG:message.max.bytes=1048588}",
                "  retention.ms=86400000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}")) {
            assertTrue(all.contains(line), line + " not in " + all);
        }
    }

    @Test
    void kafkaConfigsShouldSetCompressionType() throws Exception {
        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-compression",
                "--partitions", "1", "--replication-factor", "1", "--config", "compression.type=zstd");
        String altered = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-compression", "--alter", "--add-config", "compression.type=lz4").stdout();
        assertTrue(altered.contains("Completed updating config for topic kt-compression."), altered);
        List<String> dynamic = ok(CONFIGS, null, "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "kt-compression", "--describe").stdoutLines();
        assertTrue(dynamic.contains("  compression.type=lz4 sensitive=false "
                + "synonyms={DYNAMIC_TOPIC_CONFIG:compression.type=lz4, "
                + "DEFAULT_CONFIG:compression.type=producer}"), dynamic.toString());
    }

    @Test
    void kafkaDeleteRecordsShouldMoveTheLogStartOffset() throws Exception {
        ok(CONSOLE_PRODUCER, lines("kt-delete-records", 10), "--bootstrap-server", bootstrap,
                "--topic", "kt-delete-records",
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        Path json = Files.createTempFile("delete-records", ".json");
        try {
            Files.writeString(json, "{\"partitions\":[{\"topic\":\"kt-delete-records\",\"partition\":0,\"offset\":4}],"
                    + "\"version\":1}");
            List<String> out = ok(DELETE_RECORDS, null, "--bootstrap-server", bootstrap,
                    "--offset-json-file", json.toString()).stdoutLines();
            assertEquals(List.of("Executing records delete operation", "Records delete operation completed:",
                    "partition: kt-delete-records-0\tlow_watermark: 4"), out);
        } finally {
            Files.deleteIfExists(json);
        }
        List<String> earliest = ok(GET_OFFSETS, null, "--bootstrap-server", bootstrap,
                "--topic", "kt-delete-records", "--time", "earliest").stdoutLines();
        assertEquals(List.of("kt-delete-records:0:4"), earliest);
    }

    @Test
    void kafkaLogDirsShouldDescribeThePartitionsOfEachLogDir() throws Exception {
        ok(CONSOLE_PRODUCER, lines("kt-log-dirs", 3), "--bootstrap-server", bootstrap, "--topic", "kt-log-dirs",
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        List<String> out = ok(LOG_DIRS, null, "--bootstrap-server", bootstrap, "--describe",
                "--topic-list", "kt-log-dirs").stdoutLines();
        assertEquals("Querying brokers for log directories information", out.get(0), out.toString());
        assertEquals("Received log directory information from brokers 0", out.get(1), out.toString());
        String json = out.get(2); // Jackson's rendering of a map: the key order is not part of the contract
        for (String part : List.of("\"version\":1", "\"broker\":0", "\"logDir\":\"" + BROKER.logDir() + "\"",
                "\"error\":null", "\"partition\":\"kt-log-dirs-0\"", "\"offsetLag\":0", "\"isFuture\":false")) {
            assertTrue(json.contains(part), part + " not in " + json);
        }
        assertTrue(Pattern.compile("\"size\":[1-9]\\d*").matcher(json).find(), json);
    }

    @Test
    void kafkaLeaderElectionShouldFindNoElectionNeededOnOneBroker() throws Exception {
        ok(TOPICS, null, "--bootstrap-server", bootstrap, "--create", "--topic", "kt-election",
                "--partitions", "2", "--replication-factor", "1");
        String out = ok(LEADER_ELECTION, null, "--bootstrap-server", bootstrap, "--election-type", "preferred",
                "--topic", "kt-election", "--partition", "1").stdout();
        assertTrue(out.contains("Valid replica already elected for partitions kt-election-1"), out);
        // asked for every partition, Kafka answers only those where an election was needed: none, nothing printed
        ForkedProcess.Result all = ok(LEADER_ELECTION, null, "--bootstrap-server", bootstrap,
                "--election-type", "preferred", "--all-topic-partitions");
        assertFalse(all.stdout().contains("Error") || all.stderr().contains("Error"), all.toString());
    }

    @Test
    void kafkaTransactionsShouldDescribeTheProducersOfAPartition() throws Exception {
        // the console producer is idempotent by default: one producer id, sequences 0..4
        ok(CONSOLE_PRODUCER, lines("kt-producers", 5), "--bootstrap-server", bootstrap, "--topic", "kt-producers",
                "--reader-property", "parse.key=true", "--reader-property", "key.separator=:");
        ForkedProcess.Result r = ok(TRANSACTIONS, null, "--bootstrap-server", bootstrap, "describe-producers",
                "--topic", "kt-producers", "--partition", "0");
        assertTrue(r.stdoutLines().get(0).matches("ProducerId\\s+ProducerEpoch\\s+LatestCoordinatorEpoch\\s+"
                + "LastSequence\\s+LastTimestamp\\s+CurrentTransactionStartOffset\\s*"), r.toString());
        List<String> producer = row(r.stdoutLines(), "ProducerId");
        assertEquals(6, producer.size(), r.toString());
        assertTrue(Long.parseLong(producer.get(0)) >= 0, r.toString());
        assertEquals("4", producer.get(3), r.toString());
        assertEquals("None", producer.get(5), r.toString());
    }

    /** {@code key:<topic> i} lines for the console producer with parse.key and key.separator=: */
    static String lines(String topic, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append('k').append(i).append(':').append(topic).append(' ').append(i).append('\n');
        }
        return sb.toString();
    }

    /** The whitespace-separated cells of the first row under the table header that starts with {@code header}. */
    static List<String> row(List<String> lines, String header) {
        for (int i = 0; i < lines.size() - 1; i++) {
            if (lines.get(i).matches(Pattern.quote(header) + "\\s.*")) {
                return List.of(lines.get(i + 1).trim().split("\\s+"));
            }
        }
        throw new AssertionError("no table with header " + header + " in " + lines);
    }
}
