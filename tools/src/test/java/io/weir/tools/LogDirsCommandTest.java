package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;
import io.weir.common.testing.TempDirs;
import io.weir.common.utils.Json;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code weir-log-dirs.sh --describe} against a broker with two {@code log.dirs}. */
class LogDirsCommandTest {
    private final Path root = TempDirs.create("log-dirs-tool");
    private Broker broker;

    @AfterEach
    void stop() throws Exception {
        if (broker != null) {
            broker.shutdown();
            broker.awaitShutdown();
        }
        TempDirs.delete(root);
    }

    @Test
    void shouldDescribeEveryLogDirectoryOfTheBroker() {
        Path a = root.resolve("a");
        Path b = root.resolve("b");
        broker = new Broker(new BrokerConfig(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", a + "," + b,
            "auto.create.topics.enable", "false")));
        broker.startup();
        String bootstrap = "127.0.0.1:" + broker.boundPort();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new io.weir.admin.NewTopic("jbod", 3, (short) 1))).all().join();
        }
        Result r = ToolRun.capture((out, err) -> LogDirsCommand.run(new String[] {"--bootstrap-server", bootstrap,
            "--describe", "--topic-list", "jbod"}, out, err, Admin::create));
        assertEquals(0, r.status(), r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) Json.parse(r.lines().get(2));
        Map<?, ?> only = (Map<?, ?>) ((List<?>) doc.get("brokers")).get(0);
        Map<String, Set<String>> partitionsByDir = new HashMap<>();
        for (Object o : (List<?>) only.get("logDirs")) {
            Map<?, ?> d = (Map<?, ?>) o;
            Set<String> parts = new TreeSet<>();
            for (Object p : (List<?>) d.get("partitions")) {
                parts.add((String) ((Map<?, ?>) p).get("partition"));
            }
            partitionsByDir.put((String) d.get("logDir"), parts);
        }
        // three new partitions over two empty directories: first, second, first
        assertEquals(Map.of(a.toAbsolutePath().normalize().toString(), Set.of("jbod-0", "jbod-2"),
            b.toAbsolutePath().normalize().toString(), Set.of("jbod-1")), partitionsByDir);
    }
}
