package io.weir.streams;

import io.weir.streams.errors.TopologyException;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.serialization.Serdes;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What WeirStreams refuses before it connects anywhere. */
class WeirStreamsConfigTest {

    @Test
    void refusesGlobalStoresItCannotRunYet() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.globalTable("users", Consumed.with(Serdes.String(), Serdes.String()));
        builder.stream("orders", Consumed.with(Serdes.String(), Serdes.String())).to("out");
        TopologyException e = assertThrows(TopologyException.class, () -> new WeirStreams(builder.build(),
            Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "app", StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1")));
        assertTrue(e.getMessage().contains("users"), e.getMessage());
    }
}
