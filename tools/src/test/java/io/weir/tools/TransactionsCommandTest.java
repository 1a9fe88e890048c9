package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.NewTopic;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.consumer.ConsumerConfig;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.producer.ProducerConfig;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * weir-transactions.sh: flag handling without a server, Kafka's table layout, then every subcommand
 * against a real broker with transactions left open by Weir's own transactional producer — one that
 * the coordinator still tracks (not hanging; force-terminate ends it) and one whose coordinator state
 * was lost (hanging: find-hanging reports it, abort clears it, read_committed reaches the end).
 */
@Timeout(180)
class TransactionsCommandTest {
    private static final long HOUR_MS = 3_600_000L;
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("transaction.state.log.num.partitions", "3"));
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

    private static Result run(EmbeddedBroker b, Time time, String... args) {
        String[] full = new String[args.length + 2];
        full[0] = "--bootstrap-server";
        full[1] = b.bootstrapServers();
        System.arraycopy(args, 0, full, 2, args.length);
        return ToolRun.capture((out, err) -> TransactionsCommand.run(full, out, err, Admin::create, time));
    }

    /** For flag errors: an admin factory that must not be reached. */
    private static Result runNoServer(String... args) {
        return ToolRun.capture((out, err) -> TransactionsCommand.run(args, out, err, p -> fail("no admin expected"),
            Time.SYSTEM));
    }

    /** A clock an hour ahead: every open transaction looks older than find-hanging's default 15 minutes. */
    private static Time anHourLater() {
        return new MockTime(System.currentTimeMillis() + HOUR_MS);
    }

    private static void assertUsage(Result r, String fragment) {
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertTrue(r.err().contains("Usage: weir-transactions.sh"), "usage must follow the error: " + r.err());
        assertEquals("", r.out());
    }

    @Test
    void shouldRejectBadFlagsWithUsage() {
        String[] b = {"--bootstrap-server", "h:1"};
        assertUsage(runNoServer("--bootstrap-server", "h:1", "--bogus", "list"), "--bogus");
        assertUsage(runNoServer("list"), "--bootstrap-server");
        assertUsage(runNoServer(b), "Missing required subcommand");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "no-such-command"), "no-such-command");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "describe"), "--transactional-id");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "describe-producers", "--topic", "t"), "--partition");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "abort", "--topic", "t", "--partition", "x"), "x");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "list", "--duration-filter", "soon"), "soon");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "forceTerminateTransaction"), "--transactionalId");
        assertUsage(runNoServer("--bootstrap-server", "h:1", "find-hanging", "--max-transaction-timeout", "x"), "x");
    }

    @Test
    void shouldPrintHelpToStdout() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = TransactionsCommand.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err, p -> fail("no admin expected"), Time.SYSTEM);
        assertEquals(0, status);
        String help = out.toString(StandardCharsets.UTF_8);
        for (String sub : List.of("list", "describe", "describe-producers", "abort", "find-hanging",
            "forceTerminateTransaction")) {
            assertTrue(help.contains(sub), sub + " missing from:\n" + help);
        }
        out.reset();
        status = TransactionsCommand.run(new String[] {"--bootstrap-server", "h:1", "abort", "--help"},
            new PrintStream(out, true, StandardCharsets.UTF_8), System.err, p -> fail("no admin expected"), Time.SYSTEM);
        assertEquals(0, status);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--start-offset"));
    }

    @Test
    void shouldPadEveryCellToItsColumnAndEndItWithATabLikeKafka() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        TransactionsCommand.printTable(List.of("A", "Longer"), List.of(List.of("wide-cell", "x"), List.of("y", "")), out);
        assertEquals("A        \tLonger\t\nwide-cell\tx     \t\ny        \t      \t\n",
            bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }

    /** The tool's execute-time checks (Kafka's printErrorAndExit): exit 1, the message, no usage. */
    @Test
    void shouldRefuseIncompleteAbortAndFindHangingScopes() {
        Result r = run(BROKER.embedded(), Time.SYSTEM, "abort", "--topic", "t", "--partition", "0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("must be identified either with --start-offset"), r.err());
        r = run(BROKER.embedded(), Time.SYSTEM, "abort", "--topic", "t", "--partition", "0", "--producer-id", "5");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("Missing required argument --producer-epoch"), r.err());
        r = run(BROKER.embedded(), Time.SYSTEM, "find-hanging");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("requires either --topic or --broker-id"), r.err());
        r = run(BROKER.embedded(), Time.SYSTEM, "find-hanging", "--partition", "0", "--broker-id", "0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("The --partition argument requires --topic"), r.err());
        r = run(BROKER.embedded(), Time.SYSTEM, "describe", "--transactional-id", "no-such-id");
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("Failed to describe transaction state of transactional-id `no-such-id`: "), r.err());
    }

    private static WeirProducer<String, String> producer(EmbeddedBroker b, String transactionalId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000L);
        return new WeirProducer<>(p, new Serializers.StringSerializer(), new Serializers.StringSerializer());
    }

    /** What a read_committed consumer reads from the beginning of {@code tp} up to its end (the LSO). */
    private static List<String> readCommitted(EmbeddedBroker b, TopicPartition tp) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (WeirConsumer<String, String> c = new WeirConsumer<>(p, new Deserializers.StringDeserializer(),
            new Deserializers.StringDeserializer())) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (c.position(tp) < end) {
                assertTrue(System.nanoTime() - deadline < 0, "reading " + tp + " stopped at " + c.position(tp) + " of "
                    + end + " after 60 s; read " + values);
                c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
            return values;
        }
    }

    private static long readCommittedEnd(EmbeddedBroker b, TopicPartition tp) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (WeirConsumer<String, String> c = new WeirConsumer<>(p, new Deserializers.StringDeserializer(),
            new Deserializers.StringDeserializer())) {
            return c.endOffsets(List.of(tp)).get(tp);
        }
    }

    /**
     * A transaction its coordinator still tracks: list, describe and describe-producers show it,
     * find-hanging does not report it (the coordinator will end it), force-terminate aborts it.
     */
    @Test
    void shouldShowAnOpenTransactionAndForceTerminateIt() throws Exception {
        String topic = "tracked";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition(topic, 0);
        try (WeirProducer<String, String> p = producer(BROKER.embedded(), "tools-tracked")) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "open")).get();

            Result list = run(BROKER.embedded(), Time.SYSTEM, "list");
            assertEquals(0, list.status(), list.err());
            assertEquals(List.of("TransactionalId", "Coordinator", "ProducerId", "TransactionState"), list.row("TransactionalId"));
            List<String> row = list.row("tools-tracked");
            assertEquals("0", row.get(1), "coordinator: the one broker, id 0");
            assertEquals("Ongoing", row.get(3));
            String producerId = row.get(2);

            Result filtered = run(BROKER.embedded(), Time.SYSTEM, "list", "--transactional-id-pattern", "tools-t.*");
            assertEquals(0, filtered.status(), filtered.err());
            filtered.row("tools-tracked");
            Result none = run(BROKER.embedded(), Time.SYSTEM, "list", "--transactional-id-pattern", "other.*");
            assertEquals(List.of("TransactionalId\tCoordinator\tProducerId\tTransactionState\t"), none.lines());
            Result longRunning = run(BROKER.embedded(), Time.SYSTEM, "list", "--duration-filter", String.valueOf(HOUR_MS));
            assertEquals(0, longRunning.status(), longRunning.err());
            assertFalse(longRunning.out().contains("tools-tracked"), "not running for an hour yet: " + longRunning.out());

            Result describe = run(BROKER.embedded(), Time.SYSTEM, "describe", "--transactional-id", "tools-tracked");
            assertEquals(0, describe.status(), describe.err());
            assertEquals(List.of("CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
                "TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"),
                describe.row("CoordinatorId"));
            List<String> d = describe.row("0", "tools-tracked");
            assertEquals(producerId, d.get(2));
            assertEquals("Ongoing", d.get(4));
            assertEquals("60000", d.get(5));
            assertTrue(Long.parseLong(d.get(6)) > 0, "start time: " + d);
            assertEquals("tracked-0", d.get(8));

            Result producers = run(BROKER.embedded(), Time.SYSTEM, "describe-producers", "--topic", topic, "--partition", "0");
            assertEquals(0, producers.status(), producers.err());
            List<String> ps = producers.row(producerId);
            assertEquals("0", ps.get(3), "last sequence");
            assertEquals("0", ps.get(5), "the open transaction starts at offset 0");
            Result onLeader = run(BROKER.embedded(), Time.SYSTEM, "describe-producers", "--topic", topic, "--partition", "0",
                "--broker-id", "0");
            assertEquals(0, onLeader.status(), onLeader.err());
            onLeader.row(producerId);

            Result hanging = run(BROKER.embedded(), anHourLater(), "find-hanging", "--topic", topic);
            assertEquals(0, hanging.status(), hanging.err());
            assertEquals(1, hanging.lines().size(), "the coordinator still holds the partition: " + hanging.out());

            Result terminate = run(BROKER.embedded(), Time.SYSTEM, "forceTerminateTransaction", "--transactionalId", "tools-tracked");
            assertEquals(0, terminate.status(), terminate.err());
            assertEquals("", terminate.out());
            assertEquals(List.of(), readCommitted(BROKER.embedded(), tp), "the open record was aborted, the LSO moved to the end");
            Result after = run(BROKER.embedded(), Time.SYSTEM, "describe", "--transactional-id", "tools-tracked");
            List<String> a = after.row("0", "tools-tracked");
            // as with Kafka, fencing aborts the open transaction and leaves the id Empty at the bumped epoch
            assertEquals("Empty", a.get(4), "no open transaction: " + a);
            assertEquals("None", a.get(6), "no open transaction: " + a);
            assertTrue(Integer.parseInt(a.get(3)) > Integer.parseInt(d.get(3)), "epoch bumped: " + a + " after " + d);
            assertEquals("0", run(BROKER.embedded(), Time.SYSTEM, "force-terminate", "--transactionalId", "tools-tracked").status()
                + "", "force-terminate is the same subcommand");
        }
    }

    /**
     * A hanging transaction: a Weir producer began a transaction, sent and stopped, and then its
     * coordinator's state was lost (its {@code __transaction_state} removed while the broker was
     * down), so nothing will ever end the transaction. find-hanging reports it; abort clears it; the
     * last stable offset moves, so a read_committed consumer reaches the end.
     */
    @Test
    void shouldFindAndAbortAHangingTransaction() throws Exception {
        try (EmbeddedBroker own = new EmbeddedBroker(Map.of("transaction.state.log.num.partitions", "1")).start()) {
            String topic = "hanging";
            TopicPartition tp = new TopicPartition(topic, 0);
            try (Admin a = Admin.create(Map.of("bootstrap.servers", own.bootstrapServers()))) {
                a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            }
            try (WeirProducer<String, String> committed = new WeirProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, own.bootstrapServers()),
                new Serializers.StringSerializer(), new Serializers.StringSerializer())) {
                committed.send(new ProducerRecord<>(topic, 0, "k", "before")).get();
            }
            WeirProducer<String, String> stuck = producer(own, "tools-stuck");
            stuck.initTransactions();
            stuck.beginTransaction();
            stuck.send(new ProducerRecord<>(topic, 0, "k", "never-ended")).get();
            stuck.close(Duration.ZERO);

            own.broker().shutdown();
            deleteTransactionStateDirs(own.logDir());
            own.start();
            assertEquals(1L, readCommittedEnd(own, tp), "the open transaction holds the LSO at its start");

            Result notYet = run(own, Time.SYSTEM, "find-hanging", "--topic", topic, "--partition", "0");
            assertEquals(0, notYet.status(), notYet.err());
            assertEquals(1, notYet.lines().size(), "younger than 15 minutes: " + notYet.out());

            Result found = run(own, anHourLater(), "find-hanging", "--topic", topic);
            assertEquals(0, found.status(), found.err());
            assertEquals(List.of("Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset",
                "LastTimestamp", "Duration(min)"), found.row("Topic"));
            List<String> row = found.row(topic, "0");
            assertEquals("1", row.get(5), "the transaction starts at offset 1");
            assertTrue(Long.parseLong(row.get(7)) >= 59, "an hour old: " + row);
            Result byBroker = run(own, anHourLater(), "find-hanging", "--broker-id", "0");
            assertEquals(0, byBroker.status(), byBroker.err());
            assertEquals(row.subList(0, 6), byBroker.row(topic, "0").subList(0, 6));

            Result wrongStart = run(own, Time.SYSTEM, "abort", "--topic", topic, "--partition", "0", "--start-offset", "0");
            assertEquals(1, wrongStart.status());
            assertTrue(wrongStart.err().contains("Could not find any open transactions starting at offset 0 on partition "
                + "hanging-0"), wrongStart.err());

            Result abort = run(own, Time.SYSTEM, "abort", "--topic", topic, "--partition", "0", "--start-offset", "1");
            assertEquals(0, abort.status(), abort.err());
            assertEquals(List.of("before"), readCommitted(own, tp), "read_committed reaches the end past the abort marker");
            assertEquals(3L, readCommittedEnd(own, tp), "LSO past the aborted record and its marker");

            Result gone = run(own, anHourLater(), "find-hanging", "--topic", topic);
            assertEquals(1, gone.lines().size(), "nothing hangs any more: " + gone.out());
            Result producers = run(own, Time.SYSTEM, "describe-producers", "--topic", topic, "--partition", "0");
            assertEquals("None", producers.row(row.get(2)).get(5), "no open transaction: " + producers.out());
        }
    }

    private static void deleteTransactionStateDirs(Path logDir) throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(logDir)) {
            dirs = s.filter(p -> p.getFileName().toString().startsWith("__transaction_state-")).toList();
        }
        assertFalse(dirs.isEmpty(), "the coordinator's log exists");
        for (Path dir : dirs) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
