package io.weir.bench;

import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The command-line half that tools producing to one topic at a steady rate share ({@link EndToEndLatency},
 * {@link FailoverProbe}): where to connect, what to send and how fast, with which client library; and the
 * producer opened from it. A picocli mixin: a tool declares it as a {@code @Mixin} field.
 */
final class SteadyProducerOptions {
    @Option(names = "--bootstrap-server", required = true)
    String bootstrapServer;

    @Option(names = "--topic", required = true)
    String topic;

    @Option(names = "--throughput", required = true, description = "Send rate, records/sec (over all partitions).")
    double throughput;

    @Option(names = "--record-size", defaultValue = "100", description = "Value size in bytes.")
    int recordSize;

    @Option(names = "--producer-props", arity = "1..*", paramLabel = "PROP=VALUE")
    List<String> producerProps = new ArrayList<>();

    @Option(names = "--client", defaultValue = "kafka", converter = ClientKindConverter.class)
    ClientKind client;

    /** {@code --producer-props} with {@code bootstrap.servers} from {@code --bootstrap-server}. */
    Properties producerProperties() {
        return ClientProps.withBootstrap(producerProps, bootstrapServer);
    }

    /** Opens the chosen client library's producer; fails with a usage message if that library is absent. */
    ProducerPerformance.PerfProducer openProducer(Properties props) {
        client.requireAvailable("producer");
        return ProducerPerformance.open(client, props);
    }

    /** Paces sends at {@code --throughput} from {@code startNs}. */
    Throttler throttler(long startNs) {
        return new Throttler(throughput, startNs);
    }
}
