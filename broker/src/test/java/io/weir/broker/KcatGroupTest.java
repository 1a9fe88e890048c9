package io.weir.broker;

import io.weir.common.testing.ChildOutput;
import io.weir.broker.testing.EmbeddedBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** kcat's balanced consumer (librdkafka's group client) joins a Weir group, consumes and commits. */
class KcatGroupTest {
    private static EmbeddedBroker broker;

    @BeforeAll
    static void start() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/kcat")), "kcat is not installed (apt-get install kcat)");
        broker = new EmbeddedBroker(Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "2"))
            .start();
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static String kcat(String stdin, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/kcat", "-b", broker.bootstrapServers()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        java.util.concurrent.CompletableFuture<String> output = ChildOutput.drain(p.getInputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("kcat " + String.join(" ", args) + " hung for 60 s; its output: " + ChildOutput.drained(output));
        }
        String out = ChildOutput.drained(output);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void kcatBalancedConsumerShouldJoinAGroupAndConsumeEverything() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            lines.append("v").append(i).append('\n');
        }
        kcat(lines.toString(), "-P", "-t", "kg");
        String out = kcat(null, "-G", "kcat-group", "-X", "auto.offset.reset=earliest", "-c", "20", "-q", "-f", "%s\\n",
            "kg");
        Set<String> got = new HashSet<>(Arrays.asList(out.strip().split("\n")));
        assertEquals(20, got.size(), out);
        assertTrue(got.contains("v0") && got.contains("v19"), out);
    }
}
