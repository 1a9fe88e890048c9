package io.weir.broker;

import io.weir.common.testing.ChildOutput;
import io.weir.broker.testing.EmbeddedBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** kcat (librdkafka, an outside client) lists metadata, produces and consumes. .ci/run installs kcat. */
class KcatCompatibilityTest {
    private static EmbeddedBroker broker;

    @BeforeAll
    static void start() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/kcat")), "kcat is not installed (apt-get install kcat)");
        broker = new EmbeddedBroker().start();
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static String kcat(String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/kcat", "-b", broker.bootstrapServers()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
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
    void kcatShouldProduceConsumeAndListMetadata() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            lines.append("key").append(i).append(':').append("value ").append(i).append('\n');
        }
        for (String codec : new String[] {"none", "gzip", "snappy", "lz4", "zstd"}) {
            kcat(lines.toString(), "-P", "-t", "kc-" + codec, "-K:", "-z", codec);
            String out = kcat(null, "-C", "-t", "kc-" + codec, "-e", "-q", "-f", "%k=%s@%o\\n");
            String[] got = out.strip().split("\n");
            assertEquals(500, got.length, out);
            for (int i = 0; i < 500; i++) {
                assertEquals("key" + i + "=value " + i + "@" + i, got[i]);
            }
        }
        String meta = kcat(null, "-L", "-t", "kc-lz4");
        assertTrue(meta.contains("topic \"kc-lz4\" with 1 partitions"), meta);
        assertTrue(meta.contains("partition 0, leader 0, replicas: 0, isrs: 0"), meta);
    }
}
