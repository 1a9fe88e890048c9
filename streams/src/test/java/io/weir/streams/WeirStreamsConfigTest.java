package io.weir.streams;

import io.weir.streams.kstream.Consumed;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
