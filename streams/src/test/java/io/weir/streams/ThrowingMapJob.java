package io.weir.streams;

import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The exception-handler integration tests' job: {@code in-n -> mapValues (throws on "bad") -> out-n}, short
 * consumer sessions, every uncaught exception recorded in {@code handled} before the client shuts down; and its
 * input: {@link #SMALL} good records with the failing ones in the middle.
 */
final class ThrowingMapJob {
    /** The good input records (k0 = v0 .. k9 = v9), each of which reaches the output once. */
    static final int SMALL = 10;

    private ThrowingMapJob() {
    }

    /** The job {@code applicationId} on {@code cluster}, its state in {@code state-n} under the cluster's root. */
    static WeirStreams build(StreamsTestCluster cluster, String applicationId, int n, Map<String, String> extra,
                             List<Throwable> handled) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in-" + n, Consumed.with(Serdes.String(), Serdes.String()))
            .mapValues(v -> {
                if (v.equals("bad")) {
                    throw new IllegalStateException("cannot process bad");
                }
                return v;
            })
            .to("out-" + n, Produced.with(Serdes.String(), Serdes.String()));
        Properties p = cluster.props(applicationId, cluster.root().resolve("state-" + n));
        p.putAll(extra);
        WeirStreams streams = new WeirStreams(builder.build(), p);
        streams.setUncaughtExceptionHandler(e -> {
            handled.add(e);
            return WeirStreams.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        return streams;
    }

    /**
     * Sends k0 = v0 .. k9 = v9 to partition 0 of {@code topic}, with "bad" = "bad" (the processor throws on it) after
     * the sixth, preceded by "big" = 20 000 bytes when {@code withBigRecord}.
     */
    static void sendInput(StreamsTestCluster cluster, String topic, boolean withBigRecord) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", cluster.bootstrapServers());
        try (WeirProducer<String, String> producer = new WeirProducer<>(c, new Serializers.StringSerializer(),
            new Serializers.StringSerializer())) {
            for (int i = 0; i < SMALL; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i));
                if (i == SMALL / 2) {
                    if (withBigRecord) {
                        producer.send(new ProducerRecord<>(topic, 0, "big", "x".repeat(20_000)));
                    }
                    producer.send(new ProducerRecord<>(topic, 0, "bad", "bad"));
                }
            }
            producer.flush();
        }
    }

    /** The output of the good records: k0 = v0 .. k9 = v9. */
    static Map<String, String> expectedOutput() {
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < SMALL; i++) {
            expected.put("k" + i, "v" + i);
        }
        return expected;
    }
}
