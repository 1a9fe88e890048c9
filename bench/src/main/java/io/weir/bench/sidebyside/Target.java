package io.weir.bench.sidebyside;

import java.io.IOException;
import java.util.Map;

/**
 * What a case runs against: one broker process ({@link BrokerProcess}) or a cluster of them
 * ({@link BrokerCluster}). The name ("Weir" or "Kafka") is what the report compares.
 */
interface Target extends AutoCloseable {
    String name();

    String bootstrapServers();

    /** Starts the processes and returns once clients can use all of them, or fails. */
    void start(long timeoutMs) throws IOException, InterruptedException;

    /** Creates a topic and returns once every partition has a leader and its whole replica set in sync. */
    void createTopic(String topic, int partitions, short replicationFactor, Map<String, String> configs) throws Exception;

    /** CPU seconds (user + system) the processes have used so far; -1 if unknown. */
    double cpuSeconds();

    /** Resident set size in bytes (a cluster: the sum over its processes); -1 if unknown. */
    long rssBytes();

    /** Peak resident set size in bytes (a cluster: the sum of each process's peak); -1 if unknown. */
    long peakRssBytes();

    /** Pids and the like, for the console. */
    String describe();

    @Override
    void close();
}
