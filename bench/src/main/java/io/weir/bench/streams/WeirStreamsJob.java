package io.weir.bench.streams;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.Topology;
import io.weir.streams.WeirStreams;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.kstream.TimeWindows;
import io.weir.streams.serialization.Serdes;

import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The Weir streams side of the streams scenarios, run in its own JVM on the bench module's runtime classpath:
 * the same three topologies as {@link KafkaStreamsJob}, under exactly-once (Weir's default and only EOS mode).
 * Stops cleanly on SIGTERM; the harness also kills it with SIGKILL.
 */
public final class WeirStreamsJob {
    private WeirStreamsJob() {
    }

    public static void main(String[] argv) throws Exception {
        JobArgs args = JobArgs.parse(argv);
        Properties p = args.commonStreamsProperties();
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE);
        if (!args.get("snapshot-dir", "").isEmpty()) {
            // Weir's store snapshots: a new instance starts from the newest one plus the changelog tail
            p.put(StreamsConfig.STATE_SNAPSHOT_DIR_CONFIG, args.get("snapshot-dir"));
            p.put(StreamsConfig.STATE_SNAPSHOT_INTERVAL_MS_CONFIG, args.get("snapshot-interval-ms", "5000"));
        }
        String input = args.get("input");
        String output = args.get("output");
        StreamsBuilder builder = new StreamsBuilder();
        switch (args.get("job")) {
            case "wordcount" -> builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .flatMapValues(line -> Arrays.asList(JobArgs.words(line)))
                .groupBy((k, word) -> word, Grouped.with("words", Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts"))
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
            case "window" -> builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(JobArgs.WINDOW_SIZE_MS),
                    Duration.ofMillis(JobArgs.WINDOW_GRACE_MS)))
                .count(Materialized.as("window-counts"))
                .toStream()
                .map((wk, count) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), count))
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
            case "table" -> builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .reduce((older, newer) -> newer, Materialized.as("latest"))
                .toStream()
                .mapValues(v -> (long) v.length())
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
            default -> throw new IllegalArgumentException("unknown --job " + args.get("job"));
        }
        Topology topology = builder.build(p);
        WeirStreams streams = new WeirStreams(topology, p);
        CountDownLatch stopped = new CountDownLatch(1);
        streams.setStateListener((now, old) -> {
            if (now == WeirStreams.State.RUNNING) {
                JobArgs.printRunning(streams.restoredRecords());
            } else if (now == WeirStreams.State.ERROR || now == WeirStreams.State.NOT_RUNNING) {
                stopped.countDown();
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(30))));
        streams.start();
        stopped.await();
        System.exit(streams.state() == WeirStreams.State.ERROR ? 1 : 0);
    }
}
