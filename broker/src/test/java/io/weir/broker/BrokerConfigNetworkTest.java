package io.weir.broker;

import io.weir.broker.network.SocketServer;
import io.weir.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The network keys: defaults, and queued.max.request.bytes validated against socket.request.max.bytes. */
class BrokerConfigNetworkTest {
    @Test
    void shouldDefaultToKafkaLimitsAndAHundredMegabytePool() {
        SocketServer.Settings s = new BrokerConfig(Map.of()).socketSettings();
        assertEquals(100L << 20, s.queuedMaxRequestBytes());
        assertEquals(100 << 20, s.maxRequestBytes());
        assertEquals(30_000, s.requestReadTimeoutMs());
        assertEquals(600_000, s.connectionsMaxIdleMs());
        assertEquals(Integer.MAX_VALUE, s.maxConnections());
        assertEquals(Integer.MAX_VALUE, s.maxConnectionsPerIp());
    }

    @Test
    void shouldGrowTheDefaultPoolWithTheLargestFrameAndAcceptMinusOneAsUnbounded() {
        assertEquals(200L << 20, new BrokerConfig(Map.of(BrokerConfig.SOCKET_REQUEST_MAX_BYTES, String.valueOf(200 << 20)))
            .queuedMaxRequestBytes());
        assertEquals(Long.MAX_VALUE, new BrokerConfig(Map.of(BrokerConfig.QUEUED_MAX_REQUEST_BYTES, "-1"))
            .queuedMaxRequestBytes());
    }

    @Test
    void shouldRefuseAPoolSmallerThanTheLargestFrame() {
        ConfigException e = assertThrows(ConfigException.class, () -> new BrokerConfig(Map.of(
            BrokerConfig.QUEUED_MAX_REQUEST_BYTES, "1000", BrokerConfig.SOCKET_REQUEST_MAX_BYTES, "1001")));
        assertTrue(e.getMessage().contains(BrokerConfig.QUEUED_MAX_REQUEST_BYTES), e.getMessage());
        assertTrue(e.getMessage().contains(BrokerConfig.SOCKET_REQUEST_MAX_BYTES), e.getMessage());
        assertThrows(ConfigException.class, () -> new BrokerConfig(Map.of(BrokerConfig.QUEUED_MAX_REQUEST_BYTES, "0")));
        assertThrows(ConfigException.class, () -> new BrokerConfig(Map.of(BrokerConfig.MAX_CONNECTIONS_PER_IP, "0")));
    }
}
