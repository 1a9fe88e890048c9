package io.weir.compat;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A current librdkafka (2.15, inside {@code @confluentinc/kafka-javascript}; Debian's kcat is 2.0.2) against a Weir
 * broker: all-topics metadata, idempotent produce with every codec, a consumer group that commits, a regex
 * subscription, topic and group admin. {@code librdkafka/compat.js} does the work and prints a JSON summary; this
 * test checks its exit code, the summary's key facts and the batches as stored. {@code .ci/run} installs the npm
 * package; without it the test is skipped.
 */
class LibrdkafkaCompatibilityTest {
    private static final int PER_CODEC = 200;
    private Path dir;
    private EmbeddedBroker broker;

    @BeforeEach
    void start() {
        // checked per test, not per class, so the report counts the test as skipped and shows why
        dir = Path.of(System.getProperty("weir.compat.librdkafkaDir", "librdkafka"));
        assumeTrue(Files.isDirectory(dir.resolve("node_modules/@confluentinc/kafka-javascript/build/Release")),
                "librdkafka harness not installed: run `CKJS_LINKING=dynamic npm ci` in " + dir.toAbsolutePath()
                        + " (.ci/run does; see its log /tmp/weir-ci-npm.log)");
        assumeTrue(ForkedProcess.onPath("node"), "node is not on the PATH");
        broker = new EmbeddedBroker(Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0")).start();
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void currentLibrdkafkaShouldDoMetadataProduceConsumeRegexAndAdmin() throws Exception {
        ForkedProcess.Result r = ForkedProcess.run(dir, null, 180,
                List.of("node", "compat.js", broker.bootstrapServers(), String.valueOf(PER_CODEC)));
        String summary = r.lastStdoutLine();
        String context = "summary: " + summary + "\nstderr:\n" + r.stderr();
        assertEquals(0, r.exitCode(), context);
        assertTrue(summary.contains("\"ok\":true"), context);
        Matcher version = Pattern.compile("\"librdkafkaVersion\":\"(\\d+)\\.(\\d+)").matcher(summary);
        assertTrue(version.find(), context);
        int major = Integer.parseInt(version.group(1));
        int minor = Integer.parseInt(version.group(2));
        assertTrue(major > 2 || (major == 2 && minor >= 15), "expected librdkafka >= 2.15: " + summary);
        for (String codec : new String[] {"gzip", "snappy", "lz4", "zstd"}) {
            assertEquals(PER_CODEC, number(summary, "produce-" + codec, "delivered"), context);
            assertStoredBatches(codec);
        }
        assertEquals(4 * PER_CODEC, number(summary, "consume", "received"), context);
        assertEquals(4 * PER_CODEC, number(summary, "consume", "committed"), context);
        assertEquals(6, number(summary, "regex", "received"), context);
        assertEquals(PER_CODEC, number(summary, "admin-offsets-and-deletes", "highWatermarks"), context);
        assertTrue(Pattern.compile("\"topics\":\\[\"rx-a-[^\"]+\",\"rx-b-[^\"]+\"]").matcher(summary).find(), context);
    }

    /**
     * Reads the codec topic's segments as the broker stored them: every batch is compressed with the codec the
     * producer was configured with, and carries a producer id and sequence (the producer was idempotent).
     */
    private void assertStoredBatches(String codec) throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(broker.logDir())) {
            dirs = s.filter(d -> d.getFileName().toString().startsWith("lrk-" + codec + "-")).toList();
        }
        assertEquals(3, dirs.size(), "partition directories of the " + codec + " topic: " + dirs);
        int batches = 0;
        for (Path dir : dirs) {
            ByteBuffer log = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("00000000000000000000.log")));
            RecordBatch batch = new RecordBatch();
            for (int at = 0; at + RecordBatch.HEADER_SIZE <= log.limit(); at += batch.sizeInBytes()) {
                batch.wrap(log, at);
                if (batch.batchLength() == 0) {
                    break; // the unwritten tail of a preallocated file
                }
                assertEquals(CompressionType.forName(codec), batch.compressionType(), dir + " at " + at);
                assertTrue(batch.producerId() >= 0 && batch.baseSequence() >= 0,
                        dir + " at " + at + ": not idempotent");
                batches++;
            }
        }
        assertTrue(batches > 0, "no batches stored for " + codec);
    }

    /** The first {@code "field":<number>} after the summary's {@code "step":} key (steps are flat objects). */
    private static long number(String summary, String step, String field) {
        int at = summary.indexOf("\"" + step + "\":{");
        assertTrue(at >= 0, "no step " + step + " in " + summary);
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":(\\d+)").matcher(summary);
        assertTrue(m.find(at), "no " + field + " in step " + step + ": " + summary);
        return Long.parseLong(m.group(1));
    }
}
