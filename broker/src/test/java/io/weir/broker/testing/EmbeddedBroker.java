package io.weir.broker.testing;

import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real broker in the test's JVM on 127.0.0.1 with a port chosen by the OS, over a temp directory it creates:
 * that directory is its log dir, or (made by {@link #withLogDirs}, for the JBOD tests) it holds the named log
 * dirs. {@link #close} stops the broker and deletes that temp directory, and nothing else.
 */
public final class EmbeddedBroker implements AutoCloseable {
    private final Path home;
    private final List<Path> logDirs;
    private final Map<String, String> overrides;
    private Broker broker;

    /** A broker (not started) over its temp dir; {@code overrides} win over the defaults, {@code log.dirs} too. */
    public EmbeddedBroker(Map<String, String> overrides) {
        this(overrides, List.of());
    }

    public EmbeddedBroker() {
        this(Map.of());
    }

    private EmbeddedBroker(Map<String, String> overrides, List<String> logDirNames) {
        try {
            this.home = Files.createTempDirectory("weir-broker-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Path> dirs = new ArrayList<>();
        for (String name : logDirNames) {
            Path d = home.resolve(name).normalize();
            if (!home.equals(d.getParent()) || dirs.contains(d)) {
                throw new IllegalArgumentException("log dir names must be distinct plain names: " + logDirNames);
            }
            dirs.add(d);
        }
        this.logDirs = dirs.isEmpty() ? List.of(home) : List.copyOf(dirs);
        this.overrides = overrides;
    }

    /**
     * A broker (not started) whose {@code log.dirs} are the directories {@code names}, in that order, inside its
     * temp dir (the broker creates them when it starts); {@code overrides} as for {@link #EmbeddedBroker(Map)}.
     */
    public static EmbeddedBroker withLogDirs(Map<String, String> overrides, String... names) {
        if (names.length == 0) {
            throw new IllegalArgumentException("name at least one log dir");
        }
        return new EmbeddedBroker(overrides, List.of(names));
    }

    public EmbeddedBroker start() {
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0");
        props.put(BrokerConfig.LOG_DIRS, logDirs.stream().map(Path::toString).collect(Collectors.joining(",")));
        props.put(BrokerConfig.NUM_NETWORK_THREADS, "2");
        props.put(BrokerConfig.NUM_IO_THREADS, "4");
        props.putAll(overrides);
        broker = new Broker(new BrokerConfig(props));
        broker.startup();
        return this;
    }

    /** Stops cleanly and starts again on the same log dirs (a new port). */
    public EmbeddedBroker restart() {
        broker.shutdown();
        return start();
    }

    public Broker broker() {
        return broker;
    }

    /** Its log dir: its temp dir, or the first of those {@link #withLogDirs} named. */
    public Path logDir() {
        return logDirs.get(0);
    }

    /** Its log dir {@code name}, one of those {@link #withLogDirs} named. */
    public Path logDir(String name) {
        Path d = home.resolve(name);
        if (!logDirs.contains(d)) {
            throw new IllegalArgumentException("no log dir " + name + " among " + logDirs);
        }
        return d;
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
        try (Stream<Path> walk = Files.walk(home)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
