package io.weir.broker.metadata;

import io.weir.common.utils.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Topic metadata as brokers kept it before ZooKeeper (now read once, when such a log directory first
 * meets an empty ZooKeeper, to import it; and used by unit tests), one properties file per topic under
 * {@code <log.dir>/__weir_metadata/topics/}, plus the cluster id. Each write goes to a temp file
 * that is fsynced and atomically renamed, then the directory is fsynced, so a crash leaves either
 * the old or the new version. Thread-safe (changes are serialized; readers see immutable snapshots).
 */
public final class LocalMetadataStore implements MetadataStore {
    private static final Logger log = LoggerFactory.getLogger(LocalMetadataStore.class);
    public static final String DIR_NAME = "__weir_metadata";

    private final Path topicsDir;
    private final String clusterId;
    private volatile Map<String, TopicMetadata> topics;

    public LocalMetadataStore(Path logDir, String configuredClusterId) {
        Path root = logDir.resolve(DIR_NAME);
        this.topicsDir = root.resolve("topics");
        try {
            Files.createDirectories(topicsDir);
            Path idFile = root.resolve("cluster.id");
            if (Files.exists(idFile)) {
                String stored = Files.readString(idFile, StandardCharsets.UTF_8).trim();
                if (configuredClusterId != null && !configuredClusterId.equals(stored)) {
                    throw new IllegalStateException("cluster.id " + configuredClusterId + " does not match the id "
                        + stored + " stored in " + idFile.toAbsolutePath() + ": this log directory belongs to another"
                        + " cluster. Set cluster.id=" + stored + " (or remove cluster.id from the config), or point"
                        + " log.dirs at a directory of cluster " + configuredClusterId);
                }
                this.clusterId = stored;
            } else {
                this.clusterId = configuredClusterId != null ? configuredClusterId : newClusterId();
                writeAtomically(idFile, clusterId + "\n");
            }
            this.topics = Collections.unmodifiableMap(load());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open metadata in " + root, e);
        }
    }

    /**
     * Why the broker cannot start on a damaged topic file, and how to repair it. Starting without the
     * topic would let auto-creation make a new topic of that name over the old data, so it stops.
     */
    static String unreadableTopicFile(Path file, Exception cause) {
        String topic = file.getFileName().toString().replaceFirst("\\.properties$", "");
        return "cannot start: topic metadata file " + file.toAbsolutePath() + " is unreadable (" + cause
            + "). It describes topic '" + topic + "', whose data is in the <topic>-<partition> directories of "
            + file.getParent().getParent().getParent().toAbsolutePath() + ". To repair, do one of: restore the file"
            + " from a backup; or rewrite it by hand as a properties file with the keys name=" + topic
            + ", topic.id=<the topic's UUID>, partitions=<count of " + topic + "-N directories>,"
            + " replication.factor=1 and config.<key>=<value> for each topic override; or delete the file to drop"
            + " the topic from the metadata (its data directories are then ignored and can be deleted).";
    }

    private static String newClusterId() {
        // Kafka's shape: a random UUID as 22 characters of URL-safe base64
        UUID u = UUID.randomUUID();
        ByteBuffer b = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    private Map<String, TopicMetadata> load() throws IOException {
        Map<String, TopicMetadata> out = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(topicsDir, "*.properties")) {
            for (Path f : files) {
                Properties p = new Properties();
                try {
                    p.load(new StringReader(Files.readString(f, StandardCharsets.UTF_8)));
                    Map<String, String> configs = new HashMap<>();
                    for (String k : p.stringPropertyNames()) {
                        if (k.startsWith("config.")) {
                            configs.put(k.substring("config.".length()), p.getProperty(k));
                        }
                    }
                    TopicMetadata t = new TopicMetadata(p.getProperty("name"), UUID.fromString(p.getProperty("topic.id")),
                        Integer.parseInt(p.getProperty("partitions")), Short.parseShort(p.getProperty("replication.factor")),
                        configs);
                    out.put(t.name(), t);
                } catch (IOException | RuntimeException e) {
                    throw new IllegalStateException(unreadableTopicFile(f, e), e);
                }
            }
        }
        return out;
    }

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public Map<String, TopicMetadata> topics() {
        return topics;
    }

    @Override
    public synchronized boolean createTopic(TopicMetadata topic) {
        if (topics.containsKey(topic.name())) {
            return false;
        }
        persist(topic);
        return true;
    }

    @Override
    public synchronized boolean deleteTopic(String name) {
        if (!topics.containsKey(name)) {
            return false;
        }
        try {
            Files.deleteIfExists(fileOf(name));
            FileUtils.fsyncDirectory(topicsDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, TopicMetadata> next = new TreeMap<>(topics);
        next.remove(name);
        topics = Collections.unmodifiableMap(next);
        return true;
    }

    @Override
    public synchronized boolean updateTopic(TopicMetadata topic) {
        if (!topics.containsKey(topic.name())) {
            return false;
        }
        persist(topic);
        return true;
    }

    private void persist(TopicMetadata topic) {
        Properties p = new Properties();
        p.setProperty("name", topic.name());
        p.setProperty("topic.id", topic.topicId().toString());
        p.setProperty("partitions", Integer.toString(topic.partitionCount()));
        p.setProperty("replication.factor", Short.toString(topic.replicationFactor()));
        topic.configs().forEach((k, v) -> p.setProperty("config." + k, v));
        StringWriter w = new StringWriter();
        try {
            p.store(w, "Weir topic metadata");
            writeAtomically(fileOf(topic.name()), w.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metadata of topic " + topic.name(), e);
        }
        Map<String, TopicMetadata> next = new TreeMap<>(topics);
        next.put(topic.name(), topic);
        topics = Collections.unmodifiableMap(next);
    }

    private Path fileOf(String topic) {
        return topicsDir.resolve(topic + ".properties");
    }

    private static void writeAtomically(Path target, String content) throws IOException {
        FileUtils.atomicWrite(target, ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() {
        // nothing held open
    }
}
