package io.weir.streams;

import io.weir.streams.kstream.Consumed;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What WeirStreams accepts before it connects anywhere (global stores run end to end in GlobalKTableIntegrationTest). */
class WeirStreamsConfigTest {

    @Test
    void acceptsGlobalStoresAndKeepsTheirTopicsOutOfTheGroup() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.globalTable("users", Consumed.with(Serdes.String(), Serdes.String()));
        builder.stream("orders", Consumed.with(Serdes.String(), Serdes.String())).to("out");
        Topology topology = builder.build();
        try (WeirStreams streams = new WeirStreams(topology,
            Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app", StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"))) {
            assertEquals(WeirStreams.State.CREATED, streams.state());
        }
        assertEquals(Set.of("users"), topology.internalTopologyBuilder().globalTopics());
        assertEquals(Set.of("orders"), topology.internalTopologyBuilder().sourceTopics());
    }

    @Test
    void readsTheRecordCacheSizeAndRefusesABadOne() {
        assertEquals(StreamsConfig.DEFAULT_STATESTORE_CACHE_MAX_BYTES, StreamsConfig.cacheMaxBytes(Map.of()));
        assertEquals(5L, StreamsConfig.cacheMaxBytes(Map.of(StreamsConfig.CACHE_MAX_BYTES_BUFFERING_CONFIG, "5")),
            "the deprecated key when the new one is absent");
        assertEquals(7L, StreamsConfig.cacheMaxBytes(Map.of(StreamsConfig.CACHE_MAX_BYTES_BUFFERING_CONFIG, "5",
            StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 7L)), "the new key wins");
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).to("out");
        io.weir.common.config.ConfigException e = assertThrows(io.weir.common.config.ConfigException.class,
            () -> new WeirStreams(builder.build(), Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app",
                StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1", StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "lots")));
        assertTrue(e.getMessage().contains(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG), e.getMessage());
    }

    @Test
    void refusesABadPurgeIntervalOrHandlerClassNamingTheKey() {
        assertEquals(StreamsConfig.DEFAULT_REPARTITION_PURGE_INTERVAL_MS, StreamsConfig.repartitionPurgeIntervalMs(Map.of()));
        assertEquals(0L, StreamsConfig.repartitionPurgeIntervalMs(Map.of(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, "0")));
        Map<String, String> bad = Map.of(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, "-1",
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, "java.lang.String",
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, "com.example.NoSuchHandler");
        for (Map.Entry<String, String> entry : bad.entrySet()) {
            StreamsBuilder builder = new StreamsBuilder();
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).to("out");
            io.weir.common.config.ConfigException e = assertThrows(io.weir.common.config.ConfigException.class,
                () -> new WeirStreams(builder.build(), Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app",
                    StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1", entry.getKey(), entry.getValue())));
            assertTrue(e.getMessage().contains(entry.getKey()), e.getMessage());
        }
    }

    @Test
    void readsTheMembershipSwitchesAndRefusesABadOne() {
        assertTrue(StreamsConfig.booleanConfig(Map.of(), StreamsConfig.STATIC_MEMBERSHIP_ENABLE_CONFIG, true));
        assertEquals(false, StreamsConfig.booleanConfig(Map.of(StreamsConfig.STATIC_MEMBERSHIP_ENABLE_CONFIG, "FALSE"),
            StreamsConfig.STATIC_MEMBERSHIP_ENABLE_CONFIG, true));
        for (String key : List.of(StreamsConfig.STATIC_MEMBERSHIP_ENABLE_CONFIG, StreamsConfig.LEAVE_GROUP_ON_CLOSE_CONFIG)) {
            StreamsBuilder builder = new StreamsBuilder();
            builder.stream("in", Consumed.with(Serdes.String(), Serdes.String())).to("out");
            io.weir.common.config.ConfigException e = assertThrows(io.weir.common.config.ConfigException.class,
                () -> new WeirStreams(builder.build(), Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app",
                    StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1", key, "yes")));
            assertTrue(e.getMessage().contains(key), e.getMessage());
        }
    }
}
