package io.weir.bench;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the load tools against an in-JVM Weir broker with a few thousand records. */
class ToolsSmokeTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    @BeforeAll
    static void startBroker() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("smoke", 3, (short) 1), new NewTopic("smoke-e2e", 2, (short) 1),
                new NewTopic("smoke-txn", 2, (short) 1),
                new NewTopic("smoke-txn-e2e", 2, (short) 1)))
                .all().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldProduceAndConsumeAndPrintKafkasSummaryLines() {
        Output produced = run(ProducerPerformance::run, "--topic", "smoke", "--num-records", "4000", "--record-size", "100",
            "--throughput", "-1", "--producer-props", "bootstrap.servers=" + BROKER.bootstrapServers(), "acks=1",
            "enable.idempotence=false", "linger.ms=1");
        assertEquals(0, produced.code, produced.toString());
        String last = produced.lastLine();
        Matcher m = Summaries.PRODUCER_TOTAL.matcher(last);
        assertTrue(m.matches(), "summary line does not parse: " + last);
        assertEquals("4000", m.group(1));
        assertEquals(4000.0, Summaries.producer(produced.lines()).get("records"));
        assertTrue(Summaries.producerTransactions(produced.lines()).isEmpty(), "no transactions, no figures");

        for (String client : List.of("kafka", "weir")) {
            // assign() every partition, no group
            Output consumed = run(ConsumerPerformance::run, "--bootstrap-server", BROKER.bootstrapServers(), "--topic", "smoke",
                "--messages", "4000", "--timeout", "20000", "--client", client);
            assertEquals(0, consumed.code, consumed.toString());
            List<String> lines = consumed.lines();
            assertEquals(ConsumerPerformance.HEADER, lines.get(lines.size() - 2));
            Map<String, Double> figures = Summaries.consumer(lines);
            assertEquals(4000.0, figures.get("records"));
            assertEquals(4000 * 100 / (1024.0 * 1024.0), figures.get("MB"), 1e-4);
            assertEquals(0.0, figures.get("rebalance ms"));

            // subscribe() as a member of a group: the time to the first assignment is the rebalance time
            Output grouped = run(ConsumerPerformance::run, "--bootstrap-server", BROKER.bootstrapServers(), "--topic", "smoke",
                "--messages", "4000", "--group", "perf-" + client, "--timeout", "20000", "--client", client,
                "--consumer-props", "session.timeout.ms=10000");
            assertEquals(0, grouped.code, grouped.toString());
            Map<String, Double> g = Summaries.consumer(grouped.lines());
            assertEquals(4000.0, g.get("records"), grouped.toString());
            assertTrue(g.get("rebalance ms") > 0, grouped.toString());
        }
    }

    /** Weir's own producer in transactions: every record committed, and the commits counted. */
    @Test
    void shouldProduceInTransactionsWithTheWeirProducer() {
        Output produced = run(ProducerPerformance::run, "--topic", "smoke-txn", "--num-records", "3000", "--record-size", "100",
            "--throughput", "3000", "--client", "weir", "--transactional-id", "perf-txn", "--transaction-duration-ms", "100",
            "--producer-props", "bootstrap.servers=" + BROKER.bootstrapServers());
        assertEquals(0, produced.code, produced.toString());
        assertEquals(3000.0, Summaries.producer(produced.lines()).get("records"), produced.toString());
        Matcher m = java.util.regex.Pattern.compile("(\\d+) transactions committed, ([0-9.]+) transactions/sec\\.")
            .matcher(produced.lastLine());
        assertTrue(m.matches(), produced.toString());
        assertTrue(Long.parseLong(m.group(1)) > 1, "a throttled second of records spans several 100 ms transactions: "
            + produced);
        assertEquals(Double.parseDouble(m.group(1)), Summaries.producerTransactions(produced.lines()).get("transactions"));

        Output consumed = run(ConsumerPerformance::run, "--bootstrap-server", BROKER.bootstrapServers(), "--topic",
            "smoke-txn", "--messages", "3000", "--timeout", "20000", "--client", "weir", "--consumer-props",
            "isolation.level=read_committed");
        assertEquals(0, consumed.code, consumed.toString());
        assertEquals(3000.0, Summaries.consumer(consumed.lines()).get("records"), "all committed: " + consumed);
    }

    @Test
    void shouldProduceAtAFixedRateAndReportEndToEndLatency() {
        for (String client : List.of("kafka", "weir")) {
            Output out = run(EndToEndLatency::run, "--bootstrap-server", BROKER.bootstrapServers(), "--topic", "smoke-e2e",
                "--num-records", "600", "--throughput", "2000", "--warmup-records", "100", "--client", client,
                "--producer-props", "acks=1", "enable.idempotence=false", "linger.ms=0");
            assertEquals(0, out.code, out.toString());
            Map<String, Double> figures = Summaries.e2e(out.lines());
            assertEquals(500.0, figures.get("records"));
            assertTrue(figures.get("p99 ms") >= figures.get("p50 ms"), out.toString());
        }
    }

    /**
     * The measured records start from an empty pipeline: the first one is sent only after the consumer had every
     * warm-up record (a start-up backlog drained into the measured records before), and --stages-file breaks the
     * latency down. Unthrottled, so without that wait record 100 would go out right behind record 99.
     */
    @Test
    void shouldStartMeasuringAfterTheWarmUpRecordsWereConsumed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        for (String client : List.of("kafka", "weir")) {
            java.nio.file.Path csv = dir.resolve(client + "-slow.csv");
            Output out = run(EndToEndLatency::run, "--bootstrap-server", BROKER.bootstrapServers(), "--topic",
                "smoke-e2e-stages-" + client, "--num-records", "600", "--throughput", "-1", "--warmup-records", "100",
                "--record-size", "64", "--client", client, "--stages-file", csv.toString(),
                "--producer-props", "acks=1", "enable.idempotence=false", "linger.ms=0");
            assertEquals(0, out.code, out.toString());
            assertEquals(500.0, Summaries.e2e(out.lines()).get("records"), out.toString());
            assertTrue(out.out.contains("stages: warm-up drained before the first measured send: true"), out.toString());
            assertTrue(out.out.contains("| fill (sent -> last of batch sent) |"), out.toString());
            assertTrue(java.nio.file.Files.exists(csv), out.toString());
        }
    }

    /** Transactions every 50 ms and a read_committed consumer: every record is seen, once committed. */
    @Test
    void shouldMeasureVisibilityLatencyWithTransactionsAndAReadCommittedConsumer() {
        Output out = run(EndToEndLatency::run, "--bootstrap-server", BROKER.bootstrapServers(), "--topic", "smoke-txn-e2e",
            "--num-records", "600", "--throughput", "2000", "--warmup-records", "100", "--transaction-duration-ms", "50",
            "--producer-props", "acks=all", "linger.ms=0", "--consumer-props", "isolation.level=read_committed");
        assertEquals(0, out.code, out.toString());
        Map<String, Double> figures = Summaries.e2e(out.lines());
        assertEquals(500.0, figures.get("records"), out.toString());
        assertTrue(figures.get("max ms") > 0, out.toString());
    }

    interface Tool {
        int run(PrintStream out, PrintStream err, String... args);
    }

    record Output(int code, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }

        String lastLine() {
            List<String> l = lines();
            return l.isEmpty() ? "" : l.get(l.size() - 1);
        }

        @Override
        public String toString() {
            return "exit " + code + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    static Output run(Tool tool, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = tool.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
