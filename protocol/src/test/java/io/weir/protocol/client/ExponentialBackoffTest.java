package io.weir.protocol.client;

import io.weir.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExponentialBackoffTest {
    @Test
    void shouldDoublePerFailureUpToTheMax() {
        ExponentialBackoff b = new ExponentialBackoff(50, 1_000, 0.2, () -> 0.5);
        assertEquals(50, b.backoffMs(0));
        assertEquals(100, b.backoffMs(1));
        assertEquals(800, b.backoffMs(4));
        assertEquals(1_000, b.backoffMs(5));
        assertEquals(1_000, b.backoffMs(Integer.MAX_VALUE));
    }

    @Test
    void shouldSpreadByTheJitter() {
        assertEquals(80, new ExponentialBackoff(100, 1_000, 0.2, () -> 0.0).backoffMs(0));
        long high = new ExponentialBackoff(100, 1_000, 0.2, () -> 0.999_999).backoffMs(0);
        assertTrue(high >= 119 && high <= 120, "was " + high);
        for (int i = 0; i < 1_000; i++) {
            long v = new ExponentialBackoff(100, 1_000, 0.2).backoffMs(2);
            assertTrue(v >= 320 && v <= 480, "was " + v);
        }
    }

    @Test
    void shouldTreatAMaxBelowTheInitialAsNoGrowth() {
        assertEquals(100, new ExponentialBackoff(100, 10, 0, () -> 0.5).backoffMs(3));
        assertEquals(0, new ExponentialBackoff(0, 10, 0.2).backoffMs(3));
    }

    @Test
    void shouldParseBootstrapServers() {
        List<Node> nodes = CommonClientConfigs.parseBootstrapServers(List.of("a:1", "[::1]:9092", ""));
        assertEquals(List.of(new Node(-1, "a", 1), new Node(-2, "::1", 9092)), nodes);
        assertThrows(ConfigException.class, () -> CommonClientConfigs.parseBootstrapServers(List.of("nohost")));
        assertThrows(ConfigException.class, () -> CommonClientConfigs.parseBootstrapServers(List.of("h:0")));
        assertThrows(ConfigException.class, () -> CommonClientConfigs.parseBootstrapServers(List.of("h:x")));
        assertThrows(ConfigException.class, () -> CommonClientConfigs.parseBootstrapServers(List.of()));
    }
}
