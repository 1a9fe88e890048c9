package io.weir.broker.testing;

import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/** A real broker in the test's JVM on 127.0.0.1 with a port chosen by the OS and a temp log dir. */
public final class EmbeddedBroker implements AutoCloseable {
    private final Path logDir;
    private final Map<String, String> overrides;
    private Broker broker;

    public EmbeddedBroker(Map<String, String> overrides) {
        try {
            this.logDir = Files.createTempDirectory("weir-broker-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.overrides = overrides;
    }

    public EmbeddedBroker() {
        this(Map.of());
    }

    public EmbeddedBroker start() {
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0");
        props.put(BrokerConfig.LOG_DIRS, logDir.toString());
        props.put(BrokerConfig.NUM_NETWORK_THREADS, "2");
        props.put(BrokerConfig.NUM_IO_THREADS, "4");
        props.putAll(overrides);
        broker = new Broker(new BrokerConfig(props));
        broker.startup();
        return this;
    }

    /** Stops cleanly and starts again on the same log dir (a new port). */
    public EmbeddedBroker restart() {
        broker.shutdown();
        return start();
    }

    public Broker broker() {
        return broker;
    }

    public Path logDir() {
        return logDir;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + broker.boundPort();
    }

    public int port() {
        return broker.boundPort();
    }

    @Override
    public void close() {
        if (broker != null) {
            broker.shutdown();
        }
        try (Stream<Path> walk = Files.walk(logDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
