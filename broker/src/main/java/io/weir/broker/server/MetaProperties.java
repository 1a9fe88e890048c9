package io.weir.broker.server;

import io.weir.common.utils.FileUtils;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * The {@value #FILE} of each log directory: which cluster and which broker the directory belongs to
 * (Kafka's ZooKeeper-mode layout: {@code version=0}, {@code broker.id}, {@code cluster.id}). At start
 * the broker checks every directory of {@code log.dirs} against its own {@code broker.id} and the
 * cluster id ZooKeeper holds, and refuses to start on a directory of another broker or cluster: its
 * logs would otherwise be served as this broker's replicas. A directory without the file gets one.
 *
 * <p>Not thread-safe; called once, during start-up, before the logs are opened.
 */
public final class MetaProperties {
    public static final String FILE = "meta.properties";
    private static final String VERSION = "version";
    private static final String BROKER_ID = "broker.id";
    private static final String NODE_ID = "node.id";
    private static final String CLUSTER_ID = "cluster.id";

    private MetaProperties() {
    }

    /**
     * Checks each directory's {@value #FILE} against {@code brokerId} and {@code clusterId}, and writes
     * it where it is missing or lacks the cluster id.
     *
     * @throws IllegalStateException naming the directory, when it belongs to another broker or cluster
     */
    public static void checkOrWrite(List<Path> logDirs, int brokerId, String clusterId) {
        for (Path dir : logDirs) {
            Path file = dir.resolve(FILE);
            try {
                Files.createDirectories(dir);
                if (Files.exists(file)) {
                    Properties p = new Properties();
                    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                        p.load(r);
                    }
                    String storedBroker = p.getProperty(BROKER_ID, p.getProperty(NODE_ID));
                    if (storedBroker != null && !storedBroker.trim().equals(Integer.toString(brokerId))) {
                        throw new IllegalStateException("the log directory " + dir.toAbsolutePath() + " belongs to broker "
                            + storedBroker.trim() + " (" + file.toAbsolutePath() + "), but this broker's broker.id is "
                            + brokerId + ": set broker.id=" + storedBroker.trim() + ", or take the directory out of log.dirs");
                    }
                    String storedCluster = p.getProperty(CLUSTER_ID);
                    if (storedCluster != null && !storedCluster.trim().equals(clusterId)) {
                        throw new IllegalStateException("the log directory " + dir.toAbsolutePath() + " belongs to cluster "
                            + storedCluster.trim() + " (" + file.toAbsolutePath() + "), but this broker joins cluster "
                            + clusterId + ": point zookeeper.connect at cluster " + storedCluster.trim()
                            + ", or take the directory out of log.dirs");
                    }
                    if (storedBroker != null && storedCluster != null) {
                        continue;
                    }
                }
                write(file, brokerId, clusterId);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot check " + file, e);
            }
        }
    }

    private static void write(Path file, int brokerId, String clusterId) throws IOException {
        Properties p = new Properties();
        p.setProperty(VERSION, "0");
        p.setProperty(BROKER_ID, Integer.toString(brokerId));
        p.setProperty(CLUSTER_ID, clusterId);
        StringWriter out = new StringWriter();
        p.store(out, null);
        FileUtils.atomicWrite(file, ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.UTF_8)));
    }
}
