package io.weir.streams;

import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.ForeachAction;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;

import java.util.Arrays;
import java.util.Properties;

/**
 * The word count job the runtime tests run (in this JVM, or forked through {@link StreamsJobRunner} to be
 * killed): words of {@code wordcount.input} lines, counted in the store {@code counts}, running counts to
 * {@code wordcount.output}.
 */
public final class WordCountJob implements StreamsJob {
    @Override
    public Topology topology(Properties config) {
        return topology(config, (k, word) -> { });
    }

    /** The same job, showing each word to {@code onWord} first (tests make it fail). */
    static Topology topology(Properties config, ForeachAction<String, String> onWord) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(config.getProperty("wordcount.input"), Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.toLowerCase().split("\\W+")))
            .filter((k, word) -> !word.isEmpty())
            .peek(onWord)
            .groupBy((key, word) -> word, Grouped.with("by-word", Serdes.String(), Serdes.String()))
            .count(Materialized.as("counts"))
            .toStream()
            .to(config.getProperty("wordcount.output"), Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
