package io.weir.broker.zk;

import io.weir.common.utils.FileUtils;
import io.weir.common.utils.Json;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Registers this broker as live: the ephemeral znode {@code /brokers/ids/<broker.id>}, which goes away
 * with the broker's ZooKeeper session. Re-registers when Curator reconnects on a new session.
 *
 * <p>A broker restarted inside its old session's timeout finds its old registration still there. It
 * does not exit. If the znode belongs to the session its previous run recorded in
 * {@code <log dir>/__weir_metadata/zookeeper.session} — provably dead, since this run holds the log
 * directory's lock — it reattaches to that session with its id and password and closes it, which
 * deletes the stale znode at once. Otherwise it waits (logging what for) until the znode goes,
 * bounded by the session timeout plus a margin; a znode still held after that belongs to another live
 * broker with the same id, and startup fails saying so.
 *
 * <p>A registration deleted while this broker's session lives — the controller fenced the broker
 * ({@link ZkController#fenceBroker}: it found the listener refusing connections) — is made again at once,
 * under a new broker epoch, as Kafka's fenced brokers must register anew before they are unfenced: the
 * controller fails the earlier registration over and treats this one as a broker that just started.
 *
 * <p>Thread-safe.
 */
public final class BrokerRegistrar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerRegistrar.class);
    static final String SESSION_FILE = "zookeeper.session";

    private final ZkMetadataStore store;
    private final CuratorFramework client;
    private final int brokerId;
    private final byte[] registration;
    private final ExecutorService reregistration = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "weir-zk-registration");
        t.setDaemon(true);
        return t;
    });
    private final ConnectionStateListener listener;
    private volatile boolean closed;
    /** The czxid of this broker's current registration znode; -1 before the first registration. */
    private volatile long brokerEpoch = -1;
    /** The ZooKeeper session of the current registration. */
    private volatile long sessionRegistered;
    /** Watches this broker's own znode: deleted while the session lives means fenced. */
    private final CuratorWatcher ownZnodeWatcher = event -> {
        if (!closed && event.getType() != Watcher.Event.EventType.None) {
            try {
                reregistration.execute(this::reregister);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    };

    public BrokerRegistrar(ZkMetadataStore store, int brokerId, String host, int port, String rack,
                           List<String> endpoints) {
        this.store = store;
        this.client = store.client();
        this.brokerId = brokerId;
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 5);
        json.put("host", host);
        json.put("port", port);
        json.put("jmx_port", -1);
        json.put("timestamp", Long.toString(System.currentTimeMillis()));
        json.put("endpoints", endpoints);
        Map<String, Object> protocols = new LinkedHashMap<>();
        for (String e : endpoints) {
            String name = e.substring(0, e.indexOf(':'));
            protocols.put(name, name);
        }
        json.put("listener_security_protocol_map", protocols);
        json.put("rack", rack);
        this.registration = Json.writeBytes(json);
        this.listener = (c, state) -> {
            if (state == ConnectionState.RECONNECTED && !closed) {
                reregistration.execute(this::reregister);
            }
        };
    }

    /** Registers, first clearing or waiting out a stale registration of an earlier run. */
    public void register() {
        String path = ZkPaths.broker(brokerId);
        long waitMs = store.sessionTimeoutMs() + 2L * store.connectionTimeoutMs();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        boolean triedTakeover = false;
        try {
            store.ensurePath(ZkPaths.BROKER_IDS);
            while (true) {
                long mySession = client.getZookeeperClient().getZooKeeper().getSessionId();
                try {
                    Stat created = new Stat();
                    client.create().storingStatIn(created).withMode(CreateMode.EPHEMERAL).forPath(path, registration);
                    brokerEpoch = created.getCzxid();
                    sessionRegistered = mySession;
                    break;
                } catch (KeeperException.NodeExistsException e) {
                    Stat stat = client.checkExists().forPath(path);
                    if (stat == null) {
                        continue; // gone meanwhile
                    }
                    long owner = stat.getEphemeralOwner();
                    if (owner == mySession) {
                        client.setData().forPath(path, registration);
                        brokerEpoch = stat.getCzxid();
                        sessionRegistered = mySession;
                        break;
                    }
                    if (!triedTakeover) {
                        triedTakeover = true;
                        if (closeOwnDeadSession(owner)) {
                            continue;
                        }
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("broker.id " + brokerId + " is registered in ZooKeeper ("
                            + path + ") by another live session 0x" + Long.toHexString(owner) + " that did not expire"
                            + " within " + waitMs + " ms: another broker runs with broker.id=" + brokerId
                            + "; give each broker its own broker.id");
                    }
                    log.info("waiting for the stale registration {} of session 0x{} to expire (at most {} ms, the"
                        + " ZooKeeper session timeout plus a margin) before registering broker {}", path,
                        Long.toHexString(owner), waitMs, brokerId);
                    awaitDeletion(path, deadline);
                }
            }
            writeSessionFile();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while registering broker " + brokerId, e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("register broker " + brokerId, e);
        }
        client.getConnectionStateListenable().addListener(listener);
        log.info("registered broker {} at {} (broker epoch {})", brokerId, path, brokerEpoch);
        watchOwnZnode();
    }

    /** Sets the watch on this broker's znode again (a ZooKeeper watch fires once). */
    private void watchOwnZnode() {
        if (closed) {
            return;
        }
        try {
            if (client.checkExists().usingWatcher(ownZnodeWatcher).forPath(ZkPaths.broker(brokerId)) == null) {
                reregistration.execute(this::reregister); // deleted before the watch was set
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        } catch (Exception e) {
            log.warn("cannot watch broker {}'s registration; a deletion of it is noticed at the next reconnection",
                brokerId, e);
        }
    }

    /**
     * This broker's epoch: the zxid that created its current registration znode, as Kafka's ZooKeeper
     * mode defines it. It changes when the broker registers again (a restart, a new session), so the
     * controller can refuse requests of an earlier incarnation. -1 before {@link #register()}.
     */
    public long brokerEpoch() {
        return brokerEpoch;
    }

    private void awaitDeletion(String path, long deadlineNs) throws Exception {
        CountDownLatch gone = new CountDownLatch(1);
        Stat stat = client.checkExists().usingWatcher((Watcher) event -> gone.countDown()).forPath(path);
        if (stat == null) {
            return;
        }
        long leftNs = deadlineNs - System.nanoTime();
        if (leftNs > 0) {
            gone.await(leftNs, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * If {@code owner} is the session this broker's previous run recorded, reattach to it with its
     * password and close it (deleting its ephemeral znodes). Returns whether it did.
     */
    private boolean closeOwnDeadSession(long owner) throws InterruptedException {
        Path file = store.localDir().resolve(SESSION_FILE);
        if (!Files.exists(file)) {
            return false;
        }
        long sessionId;
        byte[] password;
        try {
            String[] parts = Files.readString(file, StandardCharsets.UTF_8).trim().split("\\s+");
            sessionId = Long.parseUnsignedLong(parts[0], 16);
            password = Base64.getDecoder().decode(parts[1]);
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring an unreadable {}", file, e);
            return false;
        }
        if (sessionId != owner) {
            return false;
        }
        log.info("broker {}'s registration belongs to session 0x{} of this broker's previous run; closing it",
            brokerId, Long.toHexString(owner));
        CountDownLatch attached = new CountDownLatch(1);
        ZooKeeper zk = null;
        try {
            zk = new ZooKeeper(store.hosts(), store.sessionTimeoutMs(), event -> {
                if (event.getState() == Watcher.Event.KeeperState.SyncConnected
                    || event.getState() == Watcher.Event.KeeperState.Expired) {
                    attached.countDown();
                }
            }, sessionId, password);
            attached.await(store.connectionTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (IOException e) {
            log.warn("cannot reattach to session 0x{}; waiting for it to expire", Long.toHexString(owner), e);
            return false;
        } finally {
            if (zk != null) {
                zk.close(); // ends the session: its ephemeral znodes are deleted
            }
        }
        return true;
    }

    private void writeSessionFile() throws Exception {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        String line = Long.toHexString(zk.getSessionId()) + " " + Base64.getEncoder().encodeToString(zk.getSessionPasswd())
            + "\n";
        Path dir = store.localDir();
        Files.createDirectories(dir);
        FileUtils.atomicWrite(dir.resolve(SESSION_FILE), ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
    }

    private void reregister() {
        if (closed) {
            return;
        }
        try {
            String path = ZkPaths.broker(brokerId);
            Stat stat = client.checkExists().forPath(path);
            long mySession = client.getZookeeperClient().getZooKeeper().getSessionId();
            if (stat == null && sessionRegistered == mySession) {
                log.warn("broker {}'s registration (broker epoch {}) was deleted while its ZooKeeper session lives:"
                    + " the controller fenced it; registering again under a new broker epoch", brokerId, brokerEpoch);
                register();
            } else if (stat == null || stat.getEphemeralOwner() != mySession) {
                log.info("re-registering broker {} on a new ZooKeeper session", brokerId);
                register();
            } else {
                watchOwnZnode();
            }
        } catch (Exception e) {
            log.error("cannot re-register broker {} after a ZooKeeper reconnection", brokerId, e);
        }
    }

    /** Stops re-registering; the znode itself goes when the store closes the session. */
    @Override
    public void close() {
        closed = true;
        client.getConnectionStateListenable().removeListener(listener);
        reregistration.shutdownNow();
    }
}
