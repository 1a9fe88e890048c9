package io.weir.examples;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsConfig;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.state.WindowStore;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TestOutputTopic;
import io.weir.streams.test.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PageViewsPerWindow} through the topology test driver: nothing until a window closes (its end plus
 * 10 s of grace in stream time), then exactly one final count per page; a late view within grace is counted,
 * one after it is dropped.
 */
class PageViewsPerWindowTest {
    private static final long T0 = Instant.parse("2026-11-28T12:00:00Z").toEpochMilli();

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "pageviews");
        return p;
    }

    private static List<KeyValue<String, Long>> sorted(List<KeyValue<String, Long>> records) {
        return records.stream().sorted(Comparator.comparing((KeyValue<String, Long> kv) -> kv.key)).toList();
    }

    @Test
    void shouldEmitOneFinalCountPerPageAndMinuteOnceTheWindowClosesAndDropViewsLaterThanGrace() {
        try (TopologyTestDriver driver = new TopologyTestDriver(new PageViewsPerWindow().topology(props()), props(),
            Instant.ofEpochMilli(T0))) {
            TestInputTopic<String, String> views = driver.createInputTopic(PageViewsPerWindow.DEFAULT_INPUT,
                Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic(PageViewsPerWindow.DEFAULT_OUTPUT,
                Serdes.String().deserializer(), Serdes.Long().deserializer());

            views.pipeInput("/home", "u1", T0 + 5_000);
            views.pipeInput("/home", "u2", T0 + 30_000);
            views.pipeInput("/cart", "u1", T0 + 59_999);
            views.pipeInput("/home", "u3", T0 + 65_000);      // stream time 12:01:05, the next window
            assertTrue(out.isEmpty(), "no result while a window is open");

            views.pipeInput("/cart", "u4", T0 + 50_000);      // 5 s behind the end of 12:00: within grace, counted
            views.pipeInput("/home", "u4", T0 + 69_999);      // stream time 12:01:09.999: 12:00 is still open
            assertTrue(out.isEmpty(), "the 12:00 window stays open until 12:01:10");

            views.pipeInput("/about", "u5", T0 + 70_000);     // stream time 12:01:10 closes 12:00
            assertEquals(List.of(KeyValue.pair("/cart@2026-11-28T12:00:00Z", 2L), KeyValue.pair("/home@2026-11-28T12:00:00Z", 2L)),
                sorted(out.readKeyValuesToList()));

            views.pipeInput("/home", "u6", T0 + 40_000);      // 12:00 has closed: dropped
            views.pipeInput("/cart", "u6", T0 + 10_000);      // dropped as well
            assertTrue(out.isEmpty(), "a dropped view changes no result");
            WindowStore<String, Long> store = driver.getWindowStore(PageViewsPerWindow.STORE);
            assertEquals(2L, store.fetch("/home", T0), "the late view was not applied");
            assertEquals(2L, store.fetch("/cart", T0));

            views.pipeInput("/home", "u7", T0 + 130_000);     // 12:02:10 closes 12:01
            assertEquals(List.of(KeyValue.pair("/about@2026-11-28T12:01:00Z", 1L), KeyValue.pair("/home@2026-11-28T12:01:00Z", 2L)),
                sorted(out.readKeyValuesToList()));
            assertTrue(out.isEmpty());
        }
    }

    @Test
    void shouldKeepWindowsOfEachPageApartAndBufferInAChangelogStore() {
        Properties p = props();
        p.put(PageViewsPerWindow.INPUT_TOPIC_CONFIG, "views");
        p.put(PageViewsPerWindow.OUTPUT_TOPIC_CONFIG, "per-minute");
        try (TopologyTestDriver driver = new TopologyTestDriver(new PageViewsPerWindow().topology(p), p, Instant.ofEpochMilli(T0))) {
            TestInputTopic<String, String> views = driver.createInputTopic("views", Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, Long> out = driver.createOutputTopic("per-minute", Serdes.String().deserializer(), Serdes.Long().deserializer());
            for (int minute = 0; minute < 3; minute++) {
                for (int i = 0; i <= minute; i++) {
                    views.pipeInput("/p", "u" + i, T0 + minute * 60_000L + i * 1_000L);
                }
            }
            views.pipeInput("/q", "u", T0 + 10 * 60_000L);
            assertEquals(List.of(KeyValue.pair("/p@2026-11-28T12:00:00Z", 1L), KeyValue.pair("/p@2026-11-28T12:01:00Z", 2L),
                KeyValue.pair("/p@2026-11-28T12:02:00Z", 3L)), out.readKeyValuesToList());
            assertTrue(driver.producedTopicNames().containsAll(List.of("pageviews-" + PageViewsPerWindow.STORE + "-changelog",
                "pageviews-" + PageViewsPerWindow.SUPPRESSION + "-store-changelog")), driver.producedTopicNames().toString());
        }
    }
}
