package io.weir.broker.zk;

import org.apache.zookeeper.server.NIOServerCnxnFactory;
import org.apache.zookeeper.server.PurgeTxnLog;
import org.apache.zookeeper.server.ServerCnxn;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A single ZooKeeper server inside the broker's JVM, for a broker started without
 * {@code zookeeper.connect}: ZooKeeper's own server ({@link ZooKeeperServer} behind a
 * {@link ServerCnxnFactory}), bound to 127.0.0.1 on a port the OS picks, its snapshots and
 * transaction log under {@code <log dir>/__zookeeper}. The broker talks to it through the same
 * Curator client it would use for an external ensemble, so there is one metadata code path.
 *
 * <p>Only the broker that started it connects to it (loopback, ephemeral port, chosen at start), so
 * any session it restores from disk belonged to an earlier run of this broker.
 *
 * <p>Start and close from one thread.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    public static final String DIR_NAME = "__zookeeper";
    /** ZooKeeper's default tick: sessions may last 2 to 20 ticks (4 to 40 seconds). */
    static final int TICK_TIME_MS = 2000;

    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    private EmbeddedZooKeeper(ZooKeeperServer server, ServerCnxnFactory factory) {
        this.server = server;
        this.factory = factory;
    }

    /** Starts a server keeping its data in {@code <logDir>/__zookeeper}. */
    public static EmbeddedZooKeeper start(Path logDir) {
        Path dir = logDir.resolve(DIR_NAME);
        ZooKeeperServer server = null;
        ServerCnxnFactory factory = null;
        try {
            Files.createDirectories(dir);
            if (Files.isDirectory(dir.resolve("version-2"))) {
                // no autopurge task runs for an embedded server: keep the newest 3 snapshots and their logs
                PurgeTxnLog.purge(dir.toFile(), dir.toFile(), 3);
            }
            // No JMX beans: registering them creates the JVM's platform MBean server, a large part of a
            // standalone broker's start time, for beans of a server that only this broker can reach.
            server = new ZooKeeperServer(dir.toFile(), dir.toFile(), TICK_TIME_MS) {
                @Override
                protected void registerJMX() {
                }

                @Override
                protected void unregisterJMX() {
                }
            };
            NIOServerCnxnFactory nio = new NIOServerCnxnFactory() {
                @Override
                public void registerConnection(ServerCnxn cnxn) {
                }

                @Override
                public void unregisterConnection(ServerCnxn cnxn) {
                }
            };
            factory = nio;
            nio.configure(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64, -1, false);
            factory.startup(server);
            // Only this broker ever connects, so a session restored from disk is an earlier run's: end it
            // now (deleting its ephemeral znodes) instead of making the broker wait out its timeout.
            java.util.List<Long> stale = java.util.List.copyOf(server.getZKDatabase().getSessions());
            for (long sessionId : stale) {
                log.info("ending session 0x{} left by the broker's previous run", Long.toHexString(sessionId));
                server.expire(sessionId);
            }
            // expiry goes through the request pipeline: wait until its ephemeral znodes are gone, so the
            // broker finds neither its old registration nor an old /controller
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (!stale.isEmpty() && stale.stream().anyMatch(server.getZKDatabase().getSessions()::contains)
                && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            log.info("embedded ZooKeeper started on 127.0.0.1:{} with data in {}", factory.getLocalPort(), dir);
            return new EmbeddedZooKeeper(server, factory);
        } catch (IOException e) {
            stop(factory, server);
            throw new UncheckedIOException("cannot start the embedded ZooKeeper in " + dir, e);
        } catch (InterruptedException e) {
            stop(factory, server);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the embedded ZooKeeper", e);
        } catch (RuntimeException e) {
            stop(factory, server);
            throw e;
        }
    }

    /** {@code 127.0.0.1:port}, a connect string for the broker's Curator client. */
    public String connectString() {
        return "127.0.0.1:" + factory.getLocalPort();
    }

    private static void stop(ServerCnxnFactory factory, ZooKeeperServer server) {
        if (factory != null) {
            factory.shutdown(); // closes connections and shuts the server down
        }
        if (server != null) {
            server.shutdown();
            try {
                if (server.getTxnLogFactory() != null) {
                    server.getTxnLogFactory().close();
                }
            } catch (IOException e) {
                log.warn("closing the embedded ZooKeeper's transaction log failed", e);
            }
        }
    }

    /** Stops the server; close clients first, so their sessions end cleanly rather than expire later. */
    @Override
    public void close() {
        stop(factory, server);
        log.info("embedded ZooKeeper stopped");
    }
}
