package io.weir.broker;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kcat's balanced consumer (librdkafka's group client) joins a Weir group, consumes and commits. */
class KcatGroupTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "2"));

    @BeforeAll
    static void start() {
        Kcat.assumeInstalled();
    }

    private static String kcat(String stdin, String... args) throws Exception {
        return Kcat.run(BROKER.bootstrapServers(), false, stdin, args);
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
