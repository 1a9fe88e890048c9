package io.weir.producer;

import io.weir.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProducerConfigTest {
    private static Map<String, Object> base() {
        Map<String, Object> m = new HashMap<>();
        m.put("bootstrap.servers", "localhost:9092");
        return m;
    }

    @Test
    void shouldUseKafkaDefaults() {
        ProducerConfig c = new ProducerConfig(base());
        assertEquals(-1, c.acks());
        assertTrue(c.idempotenceEnabled());
        assertEquals(16_384, c.getInt("batch.size"));
        assertEquals(5L, c.getLong("linger.ms"));
        assertEquals(32L * 1024 * 1024, c.getLong("buffer.memory"));
        assertEquals(120_000, c.deliveryTimeoutMs());
        assertEquals(5, c.getInt("max.in.flight.requests.per.connection"));
    }

    @Test
    void shouldRejectUnknownKeyNamingIt() {
        Map<String, Object> m = base();
        m.put("linger.msec", "5");
        ConfigException e = assertThrows(ConfigException.class, () -> new ProducerConfig(m));
        assertTrue(e.getMessage().contains("linger.msec"), e.getMessage());
    }

    @Test
    void shouldRejectInvalidValuesNamingTheKey() {
        for (String[] kv : new String[][] {{"acks", "2"}, {"compression.type", "brotli"}, {"batch.size", "big"},
            {"compression.zstd.level", "99"}, {"max.in.flight.requests.per.connection", "0"}}) {
            Map<String, Object> m = base();
            m.put(kv[0], kv[1]);
            ConfigException e = assertThrows(ConfigException.class, () -> new ProducerConfig(m), kv[0]);
            assertTrue(e.getMessage().contains(kv[0]), e.getMessage());
        }
    }

    @Test
    void shouldTurnIdempotenceOffQuietlyOnlyWhenNotAskedForExplicitly() {
        Map<String, Object> m = base();
        m.put("acks", "1");
        assertFalse(new ProducerConfig(m).idempotenceEnabled());
        m.put("enable.idempotence", "true");
        ConfigException e = assertThrows(ConfigException.class, () -> new ProducerConfig(m));
        assertTrue(e.getMessage().contains("acks"), e.getMessage());
    }

    @Test
    void shouldRejectDeliveryTimeoutBelowLingerPlusRequestTimeout() {
        Map<String, Object> m = base();
        m.put("delivery.timeout.ms", "1000");
        m.put("request.timeout.ms", "2000");
        ConfigException e = assertThrows(ConfigException.class, () -> new ProducerConfig(m));
        assertTrue(e.getMessage().contains("delivery.timeout.ms"), e.getMessage());
    }

    @Test
    void shouldFailConstructionWithoutSerializers() {
        ConfigException e = assertThrows(ConfigException.class, () -> new WeirProducer<String, String>(base()));
        assertTrue(e.getMessage().contains("key.serializer"), e.getMessage());
    }

    @Test
    void shouldMakeATransactionalProducerIdempotentAndRefuseConflicts() {
        Map<String, Object> m = base();
        m.put("transactional.id", "tx");
        ProducerConfig c = new ProducerConfig(m);
        assertEquals("tx", c.transactionalId());
        assertTrue(c.idempotenceEnabled());
        assertEquals(60_000, c.getInt("transaction.timeout.ms"));

        m.put("enable.idempotence", "false");
        ConfigException e = assertThrows(ConfigException.class, () -> new ProducerConfig(m));
        assertTrue(e.getMessage().contains("transactional.id"), e.getMessage());

        Map<String, Object> acks1 = base();
        acks1.put("transactional.id", "tx");
        acks1.put("acks", "1");
        e = assertThrows(ConfigException.class, () -> new ProducerConfig(acks1));
        assertTrue(e.getMessage().contains("transactional.id") && e.getMessage().contains("acks"), e.getMessage());

        Map<String, Object> empty = base();
        empty.put("transactional.id", "");
        assertThrows(ConfigException.class, () -> new ProducerConfig(empty));
    }
}
