package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.ConsumerGroupDescription;
import io.weir.admin.MemberDescription;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.broker.testing.TestRecords;
import io.weir.common.TopicPartition;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.protocol.client.Node;
import io.weir.tools.ToolRun.Result;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static io.weir.tools.ToolRun.assertUsageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Flag handling and output format without a server, then every action end to end against a real broker. */
@Timeout(120)
class ConsumerGroupCommandTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "3",
            "auto.create.topics.enable", "false"));
    private static Admin admin;

    @BeforeAll
    static void start() {
        admin = Admin.create(Map.of("bootstrap.servers", BROKER.bootstrapServers()));
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }

    private static Result run(String... args) {
        String[] full = new String[args.length + 2];
        full[0] = "--bootstrap-server";
        full[1] = BROKER.bootstrapServers();
        System.arraycopy(args, 0, full, 2, args.length);
        return ToolRun.capture((out, err) -> ConsumerGroupCommand.run(full, out, err, Admin::create));
    }

    /** For flag errors: an admin factory that must not be reached. */
    private static Result runNoServer(String... args) {
        return ToolRun.capture((out, err) -> ConsumerGroupCommand.run(args, out, err, p -> fail("no admin expected")));
    }

    @Test
    void shouldRejectBadFlagsWithUsage() {
        String[] b = {"--bootstrap-server", "h:1"};
        assertUsageError(runNoServer(cat(b, "--bogus")), "--bogus");
        assertUsageError(runNoServer(b), "exactly one action");
        assertUsageError(runNoServer(cat(b, "--list", "--delete", "--group", "g")), "exactly one action");
        assertUsageError(runNoServer("--list"), "bootstrap-server");
        assertUsageError(runNoServer(cat(b, "--describe")), "[group]");
        assertUsageError(runNoServer(cat(b, "--describe", "--group", "g", "--all-groups")), "[group]");
        assertUsageError(runNoServer(cat(b, "--describe", "--group", "g", "--members", "--state")), "at most one");
        assertUsageError(runNoServer(cat(b, "--list", "--members")), "[describe]");
        assertUsageError(runNoServer(cat(b, "--describe", "--group", "g", "--to-earliest")), "[reset-offsets]");
        assertUsageError(runNoServer(cat(b, "--reset-offsets", "--group", "g", "--topic", "t")), "exactly one of");
        assertUsageError(runNoServer(cat(b, "--reset-offsets", "--group", "g", "--topic", "t", "--to-latest",
            "--to-earliest")), "exactly one of");
        assertUsageError(runNoServer(cat(b, "--reset-offsets", "--group", "g", "--to-latest")), "[all-topics]");
        assertUsageError(runNoServer(cat(b, "--reset-offsets", "--group", "g", "--to-latest", "--topic", "t",
            "--dry-run", "--execute")), "[dry-run]");
        assertUsageError(runNoServer(cat(b, "--reset-offsets", "--group", "g", "--to-offset", "x", "--topic", "t")),
            "--to-offset");
        assertUsageError(runNoServer(cat(b, "--reset-offsets", "--group", "g", "--to-latest", "--topic", "t:a")),
            "partitions must be numbers");
        assertUsageError(runNoServer(cat(b, "--delete")), "[group]");
    }

    private static String[] cat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void shouldPrintHelpToStdout() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = ConsumerGroupCommand.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err, p -> fail("no admin expected"));
        assertEquals(0, status);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--reset-offsets"));
    }

    @Test
    void shouldFormatLikeKafka() {
        TopicPartition t0 = new TopicPartition("t", 0);
        TopicPartition t1 = new TopicPartition("t", 1);
        MemberDescription m = new MemberDescription("c-1-abc", null, "c-1", "/10.0.0.1", List.of(t0));
        ConsumerGroupDescription d = new ConsumerGroupDescription("g", "consumer", "Stable", "range", List.of(m),
            new Node(0, "localhost", 9092));
        List<ConsumerGroupCommand.OffsetRow> rows = ConsumerGroupCommand.offsetRows(d,
            Map.of(t0, new OffsetAndMetadata(3), t1, new OffsetAndMetadata(7)));
        assertEquals("\n"
                + "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n"
                + "g               t               0          3               10              7               c-1-abc         /10.0.0.1       c-1\n"
                + "g               t               1          7               -               -               -               -               -\n"
                + "\n",
            ConsumerGroupCommand.formatOffsets("g", rows, Map.of(t0, 10L)));
        assertEquals("\n"
                + "GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n"
                + "g               c-1-abc         /10.0.0.1       c-1             1               \n"
                + "\n",
            ConsumerGroupCommand.formatMembers(d));
        assertEquals("\n"
                + "GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS\n"
                + "g               localhost:9092 (0)        range                Stable          1\n"
                + "\n",
            ConsumerGroupCommand.formatState(d));
        assertEquals("\n"
                + "GROUP                          TOPIC                          PARTITION  NEW-OFFSET     \n"
                + "g                              t                              0          5              \n",
            ConsumerGroupCommand.formatReset("g", Map.of(t0, 5L)));
    }

    private static void createTopic(String topic, int partitions, int recordsPerPartition) {
        assertEquals(0, TopicCommand.run(new String[] {"--bootstrap-server", BROKER.bootstrapServers(), "--create",
            "--topic", topic, "--partitions", String.valueOf(partitions)}, new PrintStream(new ByteArrayOutputStream()),
            System.err, Admin::create));
        TestRecords.produceToEachPartition(BROKER.bootstrapServers(), topic, partitions, 0, recordsPerPartition);
    }

    private static KafkaConsumer<String, String> kafkaConsumer(String group, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "100");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static long committed(String group, TopicPartition tp) {
        OffsetAndMetadata o = admin.listConsumerGroupOffsets(group).join().get(tp);
        return o == null ? -1 : o.offset();
    }

    private static void awaitState(String group, String state) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!state.equals(admin.describeConsumerGroups(List.of(group)).value(group).join().state())) {
            assertTrue(System.currentTimeMillis() < deadline, "group " + group + " never reached " + state);
            Thread.sleep(20);
        }
    }

    @Test
    void shouldListDescribeResetAndDeleteAGroup() throws Exception {
        createTopic("cg-t", 2, 10);
        TopicPartition p0 = new TopicPartition("cg-t", 0);
        TopicPartition p1 = new TopicPartition("cg-t", 1);
        try (KafkaConsumer<String, String> c = kafkaConsumer("cg", "cli-1")) {
            c.subscribe(List.of("cg-t"));
            long deadline = System.currentTimeMillis() + 60_000;
            while (c.assignment().size() < 2) {
                assertTrue(System.currentTimeMillis() < deadline, "the consumer never got both partitions");
                c.poll(Duration.ofMillis(50));
            }
            c.commitSync(Map.of(new org.apache.kafka.common.TopicPartition("cg-t", 0),
                new org.apache.kafka.clients.consumer.OffsetAndMetadata(4),
                new org.apache.kafka.common.TopicPartition("cg-t", 1),
                new org.apache.kafka.clients.consumer.OffsetAndMetadata(10)));
            awaitState("cg", "Stable");

            Result list = run("--list");
            assertEquals(0, list.status(), list.err());
            assertTrue(list.out().lines().anyMatch("cg"::equals), list.out());
            assertEquals(List.of("cg", "Stable"), run("--list", "--state").row("cg"));

            Result offsets = run("--describe", "--group", "cg");
            assertEquals(0, offsets.status(), offsets.err());
            assertEquals(List.of("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
                "HOST", "CLIENT-ID"), offsets.row("GROUP"));
            List<String> r0 = offsets.row("cg", "cg-t", "0");
            assertEquals(List.of("4", "10", "6"), r0.subList(3, 6));
            assertTrue(r0.get(6).startsWith("cli-1-"), r0.toString());
            assertTrue(r0.get(7).contains("127.0.0.1"), r0.toString());
            assertEquals("cli-1", r0.get(8));
            assertEquals(List.of("10", "10", "0"), offsets.row("cg", "cg-t", "1").subList(3, 6));

            List<String> member = run("--describe", "--group", "cg", "--members").row("cg");
            assertTrue(member.get(1).startsWith("cli-1-"), member.toString());
            assertEquals("cli-1", member.get(3));
            assertEquals("2", member.get(4));

            List<String> st = run("--describe", "--group", "cg", "--state").row("cg");
            assertEquals(List.of("cg", "127.0.0.1:" + BROKER.port(), "(0)", "range", "Stable", "1"), st);

            Result refused = run("--reset-offsets", "--group", "cg", "--topic", "cg-t", "--to-earliest", "--execute");
            assertEquals(1, refused.status());
            assertTrue(refused.err().contains("Error: Assignments can only be reset if the group 'cg' is inactive, "
                + "but the current state is Stable."), refused.err());
            assertEquals(4, committed("cg", p0));

            Result notDeleted = run("--delete", "--group", "cg");
            assertEquals(1, notDeleted.status());
            assertTrue(notDeleted.err().contains("* Group 'cg' could not be deleted due to:"), notDeleted.err());
        }
        awaitState("cg", "Empty");

        Result empty = run("--describe", "--group", "cg");
        assertEquals(0, empty.status(), empty.err());
        assertTrue(empty.err().contains("Consumer group 'cg' has no active members."), empty.err());
        assertEquals(List.of("4", "10", "6", "-", "-", "-"), empty.row("cg", "cg-t", "0").subList(3, 9));
        assertEquals(List.of("cg", "127.0.0.1:" + BROKER.port(), "(0)", "Empty", "0"),
            run("--describe", "--group", "cg", "--state").row("cg"));

        // dry run (explicit, or by default with a warning) changes nothing
        Result dry = run("--reset-offsets", "--group", "cg", "--topic", "cg-t", "--to-earliest", "--dry-run");
        assertEquals(0, dry.status(), dry.err());
        assertEquals(List.of("cg", "cg-t", "0", "0"), dry.row("cg", "cg-t", "0"));
        assertEquals(List.of("cg", "cg-t", "1", "0"), dry.row("cg", "cg-t", "1"));
        assertEquals(4, committed("cg", p0));
        Result implicit = run("--reset-offsets", "--group", "cg", "--all-topics", "--to-earliest");
        assertEquals(0, implicit.status(), implicit.err());
        assertTrue(implicit.err().contains("WARN: No action will be performed"), implicit.err());
        assertEquals(4, committed("cg", p0));

        assertReset("--to-earliest", List.of(), 0, 0);
        assertReset("--to-latest", List.of(), 10, 10);
        assertReset("--to-offset", List.of("3"), 3, 3);
        assertReset("--shift-by", List.of("2"), 5, 5);
        assertReset("--shift-by", List.of("-20"), 0, 0);       // kept at the earliest offset
        assertReset("--to-offset", List.of("99"), 10, 10);     // kept at the latest offset
        assertReset("--to-current", List.of(), 10, 10);

        // one partition only
        Result one = run("--reset-offsets", "--group", "cg", "--topic", "cg-t:1", "--to-offset", "7", "--execute");
        assertEquals(0, one.status(), one.err());
        assertEquals(List.of("cg", "cg-t", "1", "7"), one.row("cg", "cg-t", "1"));
        assertFalse(one.out().contains("cg-t                           0"), one.out());
        assertEquals(10, committed("cg", p0));
        assertEquals(7, committed("cg", p1));

        Result deleted = run("--delete", "--group", "cg");
        assertEquals(0, deleted.status(), deleted.err());
        assertEquals("Deletion of requested consumer groups ('cg') was successful.", deleted.out().trim());
        Result gone = run("--describe", "--group", "cg");
        assertEquals(1, gone.status());
        assertTrue(gone.err().contains("Error: Consumer group 'cg' does not exist."), gone.err());
        assertFalse(run("--list").out().lines().anyMatch("cg"::equals));
    }

    /** Resets every partition of cg-t with --execute, then checks the printed and committed offsets. */
    private static void assertReset(String scenario, List<String> value, long want0, long want1) {
        List<String> args = new java.util.ArrayList<>(List.of("--reset-offsets", "--group", "cg", "--topic", "cg-t",
            scenario));
        args.addAll(value);
        args.add("--execute");
        Result r = run(args.toArray(new String[0]));
        assertEquals(0, r.status(), scenario + " " + value + ": " + r.err());
        assertEquals(List.of("cg", "cg-t", "0", String.valueOf(want0)), r.row("cg", "cg-t", "0"), scenario);
        assertEquals(List.of("cg", "cg-t", "1", String.valueOf(want1)), r.row("cg", "cg-t", "1"), scenario);
        assertEquals(want0, committed("cg", new TopicPartition("cg-t", 0)), scenario);
        assertEquals(want1, committed("cg", new TopicPartition("cg-t", 1)), scenario);
    }

    @Test
    void shouldReportMissingGroupsAndTopics() {
        Result describe = run("--describe", "--group", "nope");
        assertEquals(1, describe.status());
        assertTrue(describe.err().contains("Error: Consumer group 'nope' does not exist."), describe.err());

        Result delete = run("--delete", "--group", "nope");
        assertEquals(1, delete.status());
        assertTrue(delete.err().contains("Error: Deletion of some consumer groups failed:"), delete.err());
        assertTrue(delete.err().contains("* Group 'nope' could not be deleted due to:"), delete.err());

        Result topic = run("--reset-offsets", "--group", "nope", "--topic", "no-such-topic", "--to-earliest", "--execute");
        assertEquals(1, topic.status());
        assertTrue(topic.err().startsWith("Error: "), topic.err());
    }

    @Test
    void shouldCreateOffsetsForANewGroupOnReset() {
        createTopic("fresh-t", 1, 3);
        Result r = run("--reset-offsets", "--group", "fresh", "--topic", "fresh-t", "--to-latest", "--execute");
        assertEquals(0, r.status(), r.err());
        assertEquals(3, committed("fresh", new TopicPartition("fresh-t", 0)));
        Result d = run("--describe", "--group", "fresh");
        assertEquals(List.of("3", "3", "0"), d.row("fresh", "fresh-t", "0").subList(3, 6));
    }
}
