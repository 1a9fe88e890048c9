package io.weir.admin;

import io.weir.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminClientConfigTest {
    @Test
    void shouldApplyKafkaDefaults() {
        AdminClientConfig c = new AdminClientConfig(Map.of("bootstrap.servers", "h:9092"));
        assertEquals(60_000, c.defaultApiTimeoutMs());
        assertEquals(30_000, c.getInt("request.timeout.ms"));
        assertEquals(100L, c.getLong("retry.backoff.ms"));
    }

    @Test
    void shouldRejectUnknownKeyNamingIt() {
        ConfigException e = assertThrows(ConfigException.class,
            () -> new AdminClientConfig(Map.of("bootstrap.servers", "h:9092", "bogus.key", "1")));
        assertTrue(e.getMessage().contains("bogus.key"), e.getMessage());
    }

    @Test
    void shouldRejectMissingBootstrapServers() {
        ConfigException e = assertThrows(ConfigException.class, () -> new AdminClientConfig(Map.of()));
        assertTrue(e.getMessage().contains("bootstrap.servers"), e.getMessage());
    }

    @Test
    void shouldRejectInvalidValuesNamingTheKey() {
        ConfigException e = assertThrows(ConfigException.class,
            () -> new AdminClientConfig(Map.of("bootstrap.servers", "h:9092", "request.timeout.ms", "soon")));
        assertTrue(e.getMessage().contains("request.timeout.ms"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> new AdminClientConfig(Map.of("bootstrap.servers", "nohostport")));
        assertTrue(e.getMessage().contains("bootstrap.servers"), e.getMessage());
        e = assertThrows(ConfigException.class,
            () -> new AdminClientConfig(Map.of("bootstrap.servers", "h:1", "security.protocol", "SSL")));
        assertTrue(e.getMessage().contains("security.protocol"), e.getMessage());
    }

    @Test
    void shouldFailAdminCreationOnBadConfig() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "127.0.0.1:9");
        p.setProperty("linger.ms", "5");
        ConfigException e = assertThrows(ConfigException.class, () -> Admin.create(p));
        assertTrue(e.getMessage().contains("linger.ms"), e.getMessage());
    }
}
