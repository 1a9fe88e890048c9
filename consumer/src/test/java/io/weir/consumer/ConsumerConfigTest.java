package io.weir.consumer;

import io.weir.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsumerConfigTest {
    static Map<String, Object> base() {
        Map<String, Object> m = new HashMap<>();
        m.put("bootstrap.servers", "localhost:9092");
        return m;
    }

    @Test
    void shouldUseKafkaDefaults() {
        ConsumerConfig c = new ConsumerConfig(base());
        assertTrue(c.getBoolean("enable.auto.commit"));
        assertEquals(5000, c.getInt("auto.commit.interval.ms"));
        assertEquals("latest", c.getString("auto.offset.reset"));
        assertEquals(500, c.getInt("max.poll.records"));
        assertEquals(300_000, c.getInt("max.poll.interval.ms"));
        assertEquals(45_000, c.getInt("session.timeout.ms"));
        assertEquals(3000, c.getInt("heartbeat.interval.ms"));
        assertEquals(1, c.getInt("fetch.min.bytes"));
        assertEquals(52_428_800, c.getInt("fetch.max.bytes"));
        assertEquals(500, c.getInt("fetch.max.wait.ms"));
        assertEquals(1_048_576, c.getInt("max.partition.fetch.bytes"));
        assertTrue(c.getBoolean("check.crcs"));
        assertFalse(c.readCommitted());
        assertEquals(List.of("range", "cooperative-sticky"), c.assignorNames());
        assertEquals(60_000, c.getInt("default.api.timeout.ms"));
        assertEquals(30_000, c.getInt("request.timeout.ms"));
    }

    @Test
    void shouldRejectUnknownKeysNamingThem() {
        Map<String, Object> m = base();
        m.put("fetch.max.byte", "1");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConsumerConfig(m));
        assertTrue(e.getMessage().contains("fetch.max.byte"), e.getMessage());
    }

    @Test
    void shouldRejectInvalidValuesNamingTheKey() {
        for (Map.Entry<String, Object> bad : Map.<String, Object>of(
            "auto.offset.reset", "smallest",
            "isolation.level", "serializable",
            "max.poll.records", "0",
            "partition.assignment.strategy", "sticky",
            "fetch.min.bytes", "lots",
            "enable.auto.commit", "yes",
            "bootstrap.servers", "nohostport").entrySet()) {
            Map<String, Object> m = base();
            m.put(bad.getKey(), bad.getValue());
            ConfigException e = assertThrows(ConfigException.class, () -> new ConsumerConfig(m), bad.getKey());
            assertTrue(e.getMessage().contains(bad.getKey()), e.getMessage());
        }
        Map<String, Object> m = base();
        m.put("heartbeat.interval.ms", "50000");
        assertTrue(assertThrows(ConfigException.class, () -> new ConsumerConfig(m)).getMessage()
            .contains("heartbeat.interval.ms"));
    }

    @Test
    void shouldRequireBootstrapServersAndDeserializers() {
        assertTrue(assertThrows(ConfigException.class, () -> new ConsumerConfig(Map.of())).getMessage()
            .contains("bootstrap.servers"));
        ConfigException e = assertThrows(ConfigException.class, () -> new WeirConsumer<>(base()));
        assertTrue(e.getMessage().contains("key.deserializer"), e.getMessage());
    }

    @Test
    void shouldAcceptKafkaClassNamesForAssignorsAndDeserializers() {
        Map<String, Object> m = base();
        m.put("partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor,roundrobin");
        m.put("isolation.level", "read_committed");
        ConsumerConfig c = new ConsumerConfig(m);
        assertEquals(List.of("cooperative-sticky", "roundrobin"), c.assignorNames());
        assertTrue(c.readCommitted());
        assertTrue(Deserializers.forName("k", "org.apache.kafka.common.serialization.StringDeserializer")
            instanceof Deserializers.StringDeserializer);
        assertThrows(ConfigException.class, () -> Deserializers.forName("k", "java.lang.String"));
    }

    @Test
    void shouldRejectAutoCommitWithoutGroup() {
        Map<String, Object> m = base();
        m.put("enable.auto.commit", "true");
        m.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        m.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        assertTrue(assertThrows(ConfigException.class, () -> new WeirConsumer<>(m)).getMessage()
            .contains("enable.auto.commit"));
    }
}
