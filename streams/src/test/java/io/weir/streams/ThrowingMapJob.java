package io.weir.streams;

import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Produced;
import io.weir.streams.serialization.Serdes;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The exception-handler integration tests' job: {@code in-n -> mapValues (throws on "bad") -> out-n}, short
 * consumer sessions, every uncaught exception recorded in {@code handled} before the client shuts down.
 */
final class ThrowingMapJob {
    private ThrowingMapJob() {
    }

    static WeirStreams build(String applicationId, int n, String bootstrapServers, Path stateDir,
                             Map<String, String> extra, List<Throwable> handled) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in-" + n, Consumed.with(Serdes.String(), Serdes.String()))
            .mapValues(v -> {
                if (v.equals("bad")) {
                    throw new IllegalStateException("cannot process bad");
                }
                return v;
            })
            .to("out-" + n, Produced.with(Serdes.String(), Serdes.String()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put("consumer.session.timeout.ms", "3000");
        p.put("consumer.heartbeat.interval.ms", "500");
        p.putAll(extra);
        WeirStreams streams = new WeirStreams(builder.build(), p);
        streams.setUncaughtExceptionHandler(e -> {
            handled.add(e);
            return WeirStreams.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        return streams;
    }
}
