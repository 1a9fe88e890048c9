package io.weir.examples;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsJob;
import io.weir.streams.Topology;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.kstream.Suppressed;
import io.weir.streams.kstream.TimeWindows;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.serialization.Serdes;

import java.time.Duration;
import java.util.Properties;

/**
 * Page views per page and minute, one final count each: page views keyed by page (the value, a user id
 * or anything, is not read) from {@code pageviews.input.topic} (default {@value #DEFAULT_INPUT}) are
 * counted in 1-minute tumbling windows of their record timestamps with 10 s of grace, and
 * {@code suppress(untilWindowCloses)} holds each window's count back until the window has closed, so
 * {@code pageviews.output.topic} (default {@value #DEFAULT_OUTPUT}) gets exactly one record per page and
 * window: {@code page@start} → count (String → Long; {@code start} is the window start as an ISO-8601
 * instant, e.g. {@code /home@2026-11-28T12:00:00Z}).
 *
 * <p>Time is stream time, the largest record timestamp a task has seen, not the wall clock: a window
 * {@code [start, start + 1 min)} closes once a record with a timestamp of at least
 * {@code start + 1 min + 10 s} arrives on the same partition. A view up to 10 s behind the window's end
 * is still counted; a later one is dropped (and logged). The counts live in the window store
 * {@value #STORE}, the held-back results in the suppression buffer {@value #SUPPRESSION}, both changelogged.
 */
public final class PageViewsPerWindow implements StreamsJob {
    public static final String INPUT_TOPIC_CONFIG = "pageviews.input.topic";
    public static final String OUTPUT_TOPIC_CONFIG = "pageviews.output.topic";
    public static final String DEFAULT_INPUT = "page-views";
    public static final String DEFAULT_OUTPUT = "page-views-per-minute";
    public static final Duration WINDOW_SIZE = Duration.ofMinutes(1);
    public static final Duration GRACE = Duration.ofSeconds(10);
    /** The window store holding the running counts. */
    public static final String STORE = "page-view-counts";
    /** The name of the suppression buffer (its store is {@code <name>-store}). */
    public static final String SUPPRESSION = "final-page-view-counts";

    /** Needed by the runner. */
    public PageViewsPerWindow() {
    }

    @Override
    public Topology topology(Properties config) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(config.getProperty(INPUT_TOPIC_CONFIG, DEFAULT_INPUT), Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
            .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_SIZE, GRACE))
            .count(Materialized.as(STORE))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName(SUPPRESSION))
            .toStream()
            .map((window, count) -> KeyValue.pair(render(window), count))
            .to(config.getProperty(OUTPUT_TOPIC_CONFIG, DEFAULT_OUTPUT), Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }

    /** {@code page@start}, the start as an ISO-8601 instant. */
    static String render(Windowed<String> window) {
        return window.key() + "@" + window.window().startTime();
    }
}
