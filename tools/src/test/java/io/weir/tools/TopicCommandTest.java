package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.Config;
import io.weir.admin.ConfigEntry;
import io.weir.admin.TopicDescription;
import io.weir.admin.TopicPartitionInfo;
import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;
import io.weir.common.testing.TempDirs;
import io.weir.protocol.client.Node;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.weir.tools.ToolRun.assertUsageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Flag handling and output format without a server, then end to end against a real broker. */
class TopicCommandTest {
    private static Path dir;
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() {
        dir = TempDirs.create("topic-cmd");
        broker = new Broker(new BrokerConfig(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.toString(),
            "auto.create.topics.enable", "false")));
        broker.startup();
        bootstrap = "127.0.0.1:" + broker.boundPort();
    }

    @AfterAll
    static void stop() throws Exception {
        broker.shutdown();
        broker.awaitShutdown();
        TempDirs.delete(dir);
    }

    private static Result run(String... args) {
        return ToolRun.capture((out, err) -> TopicCommand.run(args, out, err, Admin::create));
    }

    /** For flag errors: an admin factory that must not be reached. */
    private static Result runNoServer(String... args) {
        return ToolRun.capture((out, err) -> TopicCommand.run(args, out, err, p -> fail("no admin expected")));
    }

    @Test
    void shouldRejectBadFlagsWithUsage() {
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--bogus"), "--bogus");
        assertUsageError(runNoServer("--bootstrap-server", "h:1"), "exactly one action");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--list", "--describe"), "exactly one action");
        assertUsageError(runNoServer("--list"), "bootstrap-server");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--create"), "topic");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--alter", "--topic", "t"), "--partitions");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--list", "--if-exists"), "if-exists");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--delete", "--topic", "t", "--if-not-exists"),
            "if-not-exists");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--describe", "--config", "a=b"), "config");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--create", "--topic", "t", "--config", "novalue"),
            "key=val");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--create", "--topic", "t", "--partitions", "0"),
            "partitions");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--describe", "--topic", "("), "regular expression");
        assertUsageError(runNoServer("--bootstrap-server", "h:1", "--create", "--topic", "t", "--partitions", "x"),
            "--partitions");
    }

    @Test
    void shouldPrintHelpToStdout() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = TopicCommand.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err, p -> fail("no admin expected"));
        assertEquals(0, status);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--replication-factor"));
    }

    @Test
    void shouldFormatLikeKafka() {
        UUID id = new UUID(0x0123456789abcdefL, 0xfedcba9876543210L);
        Node n0 = new Node(0, "h", 1);
        Node n1 = new Node(1, "h", 2);
        TopicDescription d = new TopicDescription("t", false, id, List.of(
            new TopicPartitionInfo(0, n0, List.of(n0, n1), List.of(n0)),
            new TopicPartitionInfo(1, null, List.of(n1, n0), List.of())));
        Config c = new Config(List.of(
            new ConfigEntry("cleanup.policy", "compact", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, false, false),
            new ConfigEntry("segment.bytes", "1024", ConfigEntry.ConfigSource.DEFAULT_CONFIG, false, false)));
        assertEquals("Topic: t\tTopicId: ASNFZ4mrze_-3LqYdlQyEA\tPartitionCount: 2\tReplicationFactor: 2"
            + "\tConfigs: cleanup.policy=compact", TopicCommand.formatTopic(d, c));
        assertEquals("\tTopic: t\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0",
            TopicCommand.formatPartition("t", d.partitions().get(0)));
        assertEquals("\tTopic: t\tPartition: 1\tLeader: none\tReplicas: 1,0\tIsr: ",
            TopicCommand.formatPartition("t", d.partitions().get(1)));
    }

    @Test
    void shouldCreateDescribeAlterListAndDeleteEndToEnd() throws Exception {
        Result r = run("--bootstrap-server", bootstrap, "--create", "--topic", "e2e.t1", "--partitions", "2",
            "--replication-factor", "1", "--config", "retention.ms=60000", "--config", "cleanup.policy=compact");
        assertEquals(0, r.status(), r.err());
        assertEquals("Created topic e2e.t1." + System.lineSeparator(), r.out());

        r = run("--bootstrap-server", bootstrap, "--create", "--topic", "e2e.t1", "--partitions", "2");
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("Error while executing topic command : "), r.err());
        assertTrue(r.err().contains("e2e.t1"), r.err());
        assertEquals(0, run("--bootstrap-server", bootstrap, "--create", "--topic", "e2e.t1", "--if-not-exists").status());

        assertEquals(0, run("--bootstrap-server", bootstrap, "--alter", "--topic", "e2e.t1", "--partitions", "3").status());
        r = run("--bootstrap-server", bootstrap, "--describe", "--topic", "e2e.t1");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().split(System.lineSeparator());
        assertEquals(4, lines.length, r.out());
        assertTrue(lines[0].matches("Topic: e2e\\.t1\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1"
            + "\tConfigs: .*"), lines[0]);
        assertTrue(lines[0].contains("retention.ms=60000") && lines[0].contains("cleanup.policy=compact"), lines[0]);
        assertEquals("\tTopic: e2e.t1\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0", lines[3]);

        // a command config file is read; its bootstrap is overridden by the flag
        Path cfg = dir.resolve("admin.properties");
        Files.writeString(cfg, "client.id=topic-cmd-test\nbootstrap.servers=127.0.0.1:1\n");
        assertEquals(0, run("--bootstrap-server", bootstrap, "--create", "--topic", "e2e.t2", "--command-config",
            cfg.toString()).status());
        r = run("--bootstrap-server", bootstrap, "--list", "--topic", "e2e\\..*");
        assertEquals("e2e.t1" + System.lineSeparator() + "e2e.t2" + System.lineSeparator(), r.out());

        assertEquals(0, run("--bootstrap-server", bootstrap, "--delete", "--topic", "e2e\\..*").status());
        assertEquals("", run("--bootstrap-server", bootstrap, "--list", "--topic", "e2e\\..*").out());
        r = run("--bootstrap-server", bootstrap, "--describe", "--topic", "e2e.t1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("Topic 'e2e.t1' does not exist as expected"), r.err());
        assertEquals(0, run("--bootstrap-server", bootstrap, "--delete", "--topic", "e2e.t1", "--if-exists").status());
    }

    @Test
    void shouldReportBadCommandConfigKeys() throws Exception {
        Path cfg = dir.resolve("bad.properties");
        Files.writeString(cfg, "not.a.key=1\n");
        Result r = run("--bootstrap-server", bootstrap, "--list", "--command-config", cfg.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("not.a.key"), r.err());
    }
}
