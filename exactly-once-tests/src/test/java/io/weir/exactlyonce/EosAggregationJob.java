package io.weir.exactlyonce;

import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsJob;
import io.weir.streams.Topology;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Grouped;
import io.weir.streams.kstream.KGroupedStream;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;

import java.util.List;
import java.util.Properties;
import java.util.function.Function;

/**
 * The job of the streams exactly-once crash campaign ({@link StreamsEosKill9CampaignTest}), run forked through
 * {@code io.weir.streams.StreamsJobRunner}: per key of {@code eos.input} (long values), five aggregations, each
 * in its own RocksDB store with its own changelog, each written on every update to
 * {@code <eos.output.prefix>-<aggregation>}: echo (the last value), sum, min, max and count, as Kafka's streams
 * EOS system test keeps them.
 */
public final class EosAggregationJob implements StreamsJob {
    /** The aggregations, in the order the campaign checks them; each names its store and its output topic suffix. */
    public static final List<String> AGGREGATIONS = List.of("echo", "sum", "min", "max", "count");

    @Override
    public Topology topology(Properties config) {
        StreamsBuilder builder = new StreamsBuilder();
        String prefix = config.getProperty("eos.output.prefix");
        KGroupedStream<String, Long> byKey = builder.stream(config.getProperty("eos.input"),
                Consumed.with(Serdes.String(), Serdes.Long()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()));
        Function<String, Materialized<String, Long, io.weir.streams.processor.StateStore>> store =
            name -> Materialized.<String, Long, io.weir.streams.processor.StateStore>as(name)
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long());
        write(byKey.reduce((last, value) -> value, store.apply("echo")), prefix + "-echo");
        write(byKey.reduce(Long::sum, store.apply("sum")), prefix + "-sum");
        write(byKey.reduce(Math::min, store.apply("min")), prefix + "-min");
        write(byKey.reduce(Math::max, store.apply("max")), prefix + "-max");
        write(byKey.count(store.apply("count")), prefix + "-count");
        return builder.build(config);
    }

    private static void write(KTable<String, Long> table, String topic) {
        table.toStream().to(topic, Produced.with(Serdes.String(), Serdes.Long()));
    }
}
