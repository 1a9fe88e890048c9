package io.weir.broker;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts an in-JVM broker on an ephemeral port over several {@code log.dirs}, for the JBOD tests (placement,
 * moves between directories, failed directories): two network and two I/O threads, then {@code extra}.
 */
public final class LogDirsBroker {
    private LogDirsBroker() {
    }

    /** A started broker whose {@code log.dirs} are {@code dirs}, in that order, with {@code extra} on top. */
    public static Broker start(Map<String, String> extra, Path... dirs) {
        StringBuilder logDirs = new StringBuilder();
        for (Path d : dirs) {
            logDirs.append(logDirs.length() == 0 ? "" : ",").append(d);
        }
        Map<String, String> props = new HashMap<>();
        props.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0");
        props.put(BrokerConfig.LOG_DIRS, logDirs.toString());
        props.put(BrokerConfig.NUM_NETWORK_THREADS, "2");
        props.put(BrokerConfig.NUM_IO_THREADS, "2");
        props.putAll(extra);
        Broker b = new Broker(new BrokerConfig(props));
        b.startup();
        return b;
    }
}
