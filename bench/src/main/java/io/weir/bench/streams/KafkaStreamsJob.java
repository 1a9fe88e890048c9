package io.weir.bench.streams;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The Apache Kafka Streams 4.4.0 side of the streams scenarios, run in its own JVM on the classpath resolved from
 * {@code bench/kafka-streams/pom.xml} (Kafka Streams with its own rocksdbjni): the same topologies as
 * {@link WeirStreamsJob}, {@code processing.guarantee=exactly_once_v2}; {@code --transactional-statestores true}
 * sets Kafka 4.4's opt-in {@code enable.transactional.statestores}.
 */
public final class KafkaStreamsJob {
    private KafkaStreamsJob() {
    }

    public static void main(String[] argv) throws Exception {
        JobArgs args = JobArgs.parse(argv);
        Properties p = args.commonStreamsProperties();
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put("enable.transactional.statestores", args.get("transactional-statestores", "false"));
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
        KafkaStreams streams = new KafkaStreams(builder.build(p), p);
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicLong restored = new java.util.concurrent.atomic.AtomicLong();
        streams.setGlobalStateRestoreListener(new org.apache.kafka.streams.processor.StateRestoreListener() {
            @Override
            public void onRestoreStart(org.apache.kafka.common.TopicPartition tp, String store, long start, long end) {
            }

            @Override
            public void onBatchRestored(org.apache.kafka.common.TopicPartition tp, String store, long batchEnd, long n) {
            }

            @Override
            public void onRestoreEnd(org.apache.kafka.common.TopicPartition tp, String store, long total) {
                restored.addAndGet(total);
            }
        });
        streams.setStateListener((now, old) -> {
            if (now == KafkaStreams.State.RUNNING && old != KafkaStreams.State.RUNNING) {
                JobArgs.printRunning(restored.get());
            } else if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                stopped.countDown();
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(30))));
        streams.start();
        stopped.await();
        System.exit(streams.state() == KafkaStreams.State.ERROR ? 1 : 0);
    }
}
