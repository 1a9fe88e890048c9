package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The replicas that brokers took offline because their log directory failed, as ZooKeeper holds them: one
 * ephemeral znode per such broker, {@link #PATH}{@code /<id>} = {@code {"version":1,"broker":N,
 * "broker_epoch":"E","log_dirs":[..],"partitions":[{"topic","partition"}]}}, written by the broker itself
 * ({@link #report}) each time a directory fails and again when it registers under a new broker epoch.
 *
 * <p>Why this and not Kafka's {@code /log_dir_event_notification} (a sequential znode saying only "broker N
 * had a log-dir event", after which the controller sends that broker LeaderAndIsr for all its partitions and
 * learns which are offline from the per-partition KAFKA_STORAGE_ERROR answers): Weir's controller keeps its
 * state in ZooKeeper and re-reads it when it takes office, so the broker writes the answer itself. The
 * controller reads the znodes in each {@link ZkController#reconcile} pass (a watch schedules one) and treats
 * the replicas as dead for their partitions: they leave the ISRs, leaders move to another ISR member, they are
 * never elected, and Metadata/UpdateMetadata list them among the offline replicas. An entry counts only while
 * its {@code broker_epoch} is the broker's current registration: a restart (the directory fixed) registers
 * under a new epoch, so a stale entry never hides a recovered replica; the znode is ephemeral anyway and goes
 * with the session that wrote it.
 *
 * <p>Thread-safe (stateless apart from the client).
 */
public final class ZkOfflineReplicas {
    private static final Logger log = LoggerFactory.getLogger(ZkOfflineReplicas.class);

    /** Weir's: one ephemeral child per broker with failed log directories, named by its id. */
    public static final String PATH = ZkPaths.OFFLINE_REPLICAS;

    private final CuratorFramework client;

    public ZkOfflineReplicas(CuratorFramework client) {
        this.client = client;
    }

    static String path(int brokerId) {
        return PATH + "/" + brokerId;
    }

    /**
     * Writes (creates or replaces) broker {@code brokerId}'s entry: its failed {@code logDirs} and the
     * {@code partitions} it took offline, under registration {@code brokerEpoch}. Throws when ZooKeeper
     * cannot be written (the caller retries).
     */
    public void report(int brokerId, long brokerEpoch, Collection<Path> logDirs, Collection<TopicPartition> partitions) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", 1);
        body.put("broker", brokerId);
        body.put("broker_epoch", Long.toString(brokerEpoch));
        List<String> dirs = new ArrayList<>();
        for (Path d : logDirs) {
            dirs.add(d.toAbsolutePath().normalize().toString());
        }
        body.put("log_dirs", dirs);
        List<Map<String, Object>> parts = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("topic", tp.topic());
            p.put("partition", tp.partition());
            parts.add(p);
        }
        body.put("partitions", parts);
        byte[] data = Json.writeBytes(body);
        String path = path(brokerId);
        try {
            org.apache.zookeeper.data.Stat stat = client.checkExists().forPath(path);
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            if (stat != null && stat.getEphemeralOwner() == session) {
                client.setData().withVersion(stat.getVersion()).forPath(path, data); // replaced in place: never absent
            } else {
                if (stat != null) {
                    try {
                        client.delete().forPath(path); // an earlier session's, which would otherwise stay until it expires
                    } catch (KeeperException.NoNodeException e) {
                        // gone meanwhile
                    }
                }
                client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path, data);
            }
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("write " + path, e);
        }
        log.info("broker {} (epoch {}) told the controller its offline replicas: {} partitions in {}", brokerId,
            brokerEpoch, partitions.size(), dirs);
    }

    /** One broker's entry as written: its id, the registration it was written under, its offline partitions. */
    record Entry(int broker, long brokerEpoch, List<TopicPartition> partitions) {
    }

    /**
     * Every registered broker's offline replicas, by partition: the brokers whose entry names their current
     * registration (in {@code brokers}). {@code watcher} (null: none) is armed on the children and each entry.
     */
    public Map<TopicPartition, Set<Integer>> read(Collection<BrokerRegistration> brokers, CuratorWatcher watcher) {
        return valid(readEntries(watcher), brokers);
    }

    /** The entries whose broker is registered under the epoch they name, by partition. */
    static Map<TopicPartition, Set<Integer>> valid(List<Entry> entries, Collection<BrokerRegistration> brokers) {
        if (entries.isEmpty()) {
            return Map.of();
        }
        Map<Integer, Long> epochs = new HashMap<>();
        for (BrokerRegistration b : brokers) {
            epochs.put(b.id(), b.epoch());
        }
        Map<TopicPartition, Set<Integer>> out = new HashMap<>();
        for (Entry e : entries) {
            Long registered = epochs.get(e.broker());
            if (registered == null || registered != e.brokerEpoch()) {
                continue; // not registered, or written under an earlier registration
            }
            for (TopicPartition tp : e.partitions()) {
                out.computeIfAbsent(tp, k -> new TreeSet<>()).add(e.broker());
            }
        }
        for (Map.Entry<TopicPartition, Set<Integer>> e : out.entrySet()) {
            e.setValue(Set.copyOf(e.getValue()));
        }
        return out;
    }

    /** Every entry under {@link #PATH}, arming {@code watcher} (null: none) on the children and each entry. */
    List<Entry> readEntries(CuratorWatcher watcher) {
        List<String> children;
        try {
            if (client.checkExists().forPath(PATH) == null) {
                client.create().creatingParentsIfNeeded().forPath(PATH);
            }
        } catch (KeeperException.NodeExistsException e) {
            // created meanwhile
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("create " + PATH, e);
        }
        try {
            children = watcher == null ? client.getChildren().forPath(PATH)
                : client.getChildren().usingWatcher(watcher).forPath(PATH);
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("read " + PATH, e);
        }
        List<Entry> out = new ArrayList<>();
        for (String child : children) {
            byte[] data;
            try {
                data = watcher == null ? client.getData().forPath(PATH + "/" + child)
                    : client.getData().usingWatcher(watcher).forPath(PATH + "/" + child);
            } catch (KeeperException.NoNodeException e) {
                continue; // its session ended meanwhile
            } catch (Exception e) {
                throw ZkMetadataStore.zkFailure("read " + PATH + "/" + child, e);
            }
            try {
                Map<String, Object> o = Json.parseObject(data);
                Object epoch = o.get("broker_epoch");
                List<TopicPartition> tps = new ArrayList<>();
                if (o.get("partitions") instanceof List<?> parts) {
                    for (Object p : parts) {
                        if (p instanceof Map<?, ?> m && m.get("topic") != null && m.get("partition") instanceof Number n) {
                            tps.add(new TopicPartition(m.get("topic").toString(), n.intValue()));
                        }
                    }
                }
                if (epoch != null) {
                    out.add(new Entry(Json.intField(o, "broker", -1), Long.parseLong(epoch.toString()), List.copyOf(tps)));
                }
            } catch (RuntimeException e) {
                log.warn("ignoring the unreadable {}/{}: {}", PATH, child, e.getMessage());
            }
        }
        return out;
    }

    /**
     * A broker's cached copy of every entry, re-read when a watch fires (each broker's Metadata answers list
     * the offline replicas without reading ZooKeeper per request). Thread-safe.
     */
    public static final class Cache implements AutoCloseable {
        private final ZkOfflineReplicas zk;
        private final java.util.concurrent.ExecutorService reader;
        private volatile List<Entry> entries = List.of();
        private volatile boolean closed;
        /** One watcher object for every znode, so ZooKeeper keeps one registration per znode, not one per read. */
        private final CuratorWatcher watcher = e -> scheduleRefresh();

        public Cache(ZkOfflineReplicas zk, int brokerId) {
            this.zk = zk;
            this.reader = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "weir-offline-replicas-" + brokerId);
                t.setDaemon(true);
                return t;
            });
        }

        /** Reads the entries once now and keeps them current from the watches. */
        public Cache start() {
            refresh();
            return this;
        }

        private void refresh() {
            if (closed) {
                return;
            }
            try {
                entries = zk.readEntries(watcher);
            } catch (RuntimeException e) {
                log.debug("cannot read {} now; retrying", PATH, e);
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                scheduleRefresh();
            }
        }

        private void scheduleRefresh() {
            try {
                reader.execute(this::refresh);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closed
            }
        }

        /** The brokers among {@code registered} that hold {@code tp} offline (none: an empty set). */
        public Set<Integer> offlineReplicas(TopicPartition tp, Collection<BrokerRegistration> registered) {
            List<Entry> now = entries;
            if (now.isEmpty()) {
                return Set.of();
            }
            return valid(now, registered).getOrDefault(tp, Set.of());
        }

        @Override
        public void close() {
            closed = true;
            reader.shutdownNow();
        }
    }

    /** The registered brokers minus those holding {@code tp} offline. */
    static Set<Integer> without(Set<Integer> brokers, Set<Integer> offline) {
        if (offline == null || offline.isEmpty()) {
            return brokers;
        }
        Set<Integer> out = new HashSet<>(brokers);
        out.removeAll(offline);
        return out;
    }
}
