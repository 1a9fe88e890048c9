package io.weir.broker;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kcat (librdkafka, an outside client) lists metadata, produces and consumes. .ci/run installs kcat. */
class KcatCompatibilityTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    @BeforeAll
    static void start() {
        Kcat.assumeInstalled();
    }

    private static String kcat(String stdin, String... args) throws IOException, InterruptedException {
        return Kcat.run(BROKER.bootstrapServers(), true, stdin, args);
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
