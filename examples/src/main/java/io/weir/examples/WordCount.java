package io.weir.examples;

import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsJob;
import io.weir.streams.Topology;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;

import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;

/**
 * Word count, the first stream job anyone writes: lines of text (String values; keys ignored) from
 * {@code wordcount.input.topic} (default {@value #DEFAULT_INPUT}) are split into lower-case words, counted
 * per word in the store {@value #STORE}, and every new count goes to {@code wordcount.output.topic} (default
 * {@value #DEFAULT_OUTPUT}) as word → count (String → Long).
 *
 * <p>Counting by word changes the key, so the words pass through the repartition topic
 * {@code <application.id>-}{@value #REPARTITION}{@code -repartition}; the counts are changelogged to
 * {@code <application.id>-}{@value #STORE}{@code -changelog}. Both are created by the job. Run it with
 * {@code bin/weir-streams-run.sh --class io.weir.examples.WordCount --config wordcount.properties}.
 */
public final class WordCount implements StreamsJob {
    public static final String INPUT_TOPIC_CONFIG = "wordcount.input.topic";
    public static final String OUTPUT_TOPIC_CONFIG = "wordcount.output.topic";
    public static final String DEFAULT_INPUT = "text-lines";
    public static final String DEFAULT_OUTPUT = "word-counts";
    /** The counts store (and its changelog's name part). */
    public static final String STORE = "word-counts-store";
    /** The name part of the repartition topic the words go through. */
    public static final String REPARTITION = "words-by-word";

    /** Needed by the runner. */
    public WordCount() {
    }

    @Override
    public Topology topology(Properties config) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(config.getProperty(INPUT_TOPIC_CONFIG, DEFAULT_INPUT), Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.toLowerCase(Locale.ROOT).split("\\W+")))
            .filter((key, word) -> !word.isEmpty())
            .groupBy((key, word) -> word, Grouped.with(REPARTITION, Serdes.String(), Serdes.String()))
            .count(Materialized.as(STORE))
            .toStream()
            .to(config.getProperty(OUTPUT_TOPIC_CONFIG, DEFAULT_OUTPUT), Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
