package io.weir.bench;

import io.weir.bench.ToolsSmokeTest.Output;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The failover probe against an in-JVM Weir broker (no kill): READY, then one event line per answer. */
class FailoverProbeSmokeTest {
    private static final Pattern SUMMARY = Pattern.compile("(\\d+) records sent, (\\d+) acknowledged, (\\d+) failed\\.");
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("probe-kafka", 3, (short) 1), new NewTopic("probe-weir", 3, (short) 1)))
                .all().get(30, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"kafka", "weir"})
    void shouldLogEveryAcknowledgementOfEveryPartitionAfterSayingReady(String client) throws Exception {
        Path events = dir.resolve("events.txt");
        Output out = ToolsSmokeTest.run(FailoverProbe::run, "--bootstrap-server", BROKER.bootstrapServers(),
            "--topic", "probe-" + client, "--partitions", "3", "--throughput", "600", "--record-size", "50",
            "--duration-ms", "300", "--events-file", events.toString(), "--client", client,
            "--producer-props", "acks=all", "enable.idempotence=true", "linger.ms=0");

        assertEquals(0, out.code(), out.toString());
        List<String> lines = out.lines();
        assertTrue(lines.get(0).matches("READY \\d+"), out.toString());
        Matcher m = SUMMARY.matcher(out.lastLine());
        assertTrue(m.matches(), out.toString());
        long sent = Long.parseLong(m.group(1));
        assertEquals(sent, Long.parseLong(m.group(2)), "every record acknowledged: " + out);
        assertEquals(0, Long.parseLong(m.group(3)));

        List<String> logged = Files.readAllLines(events);
        assertEquals(sent, logged.size());
        Set<Integer> partitions = new TreeSet<>();
        for (String line : logged) {
            String[] f = line.split(" ");
            assertEquals("ok", f[3], line);
            assertTrue(Long.parseLong(f[2]) >= Long.parseLong(f[1]), "answered after sent: " + line);
            partitions.add(Integer.parseInt(f[0]));
        }
        assertEquals(Set.of(0, 1, 2), partitions);
        long readyMicros = Long.parseLong(lines.get(0).substring("READY ".length()));
        assertTrue(logged.stream().anyMatch(l -> Long.parseLong(l.split(" ")[2]) <= readyMicros), "READY follows answers");
    }
}
