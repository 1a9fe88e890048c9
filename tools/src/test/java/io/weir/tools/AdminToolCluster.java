package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.common.testing.TempDirs;
import io.weir.tools.ToolRun.Result;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shared setup of the tools' tests that run one admin tool against three brokers on one real ZooKeeper:
 * the cluster, a temporary folder for the tool's JSON files, and runs of the tool with its output captured,
 * either against the cluster or (to check its flags) with an admin factory that must not be called.
 */
final class AdminToolCluster implements AutoCloseable {
    /** An admin tool's entry point, as the tools declare it: {@code run(args, out, err, adminFactory)}. */
    @FunctionalInterface
    interface AdminTool {
        int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory);
    }

    private final AdminTool tool;
    private final ThreeBrokerCluster cluster;
    private final Path dir;

    private AdminToolCluster(AdminTool tool, ThreeBrokerCluster cluster, Path dir) {
        this.tool = tool;
        this.cluster = cluster;
        this.dir = dir;
    }

    /** Starts the brokers under ZooKeeper path {@code chroot} with {@code configs}; {@code name} prefixes the folder. */
    static AdminToolCluster start(AdminTool tool, String name, String chroot, Map<String, String> configs)
        throws Exception {
        Path dir = TempDirs.create(name);
        try {
            return new AdminToolCluster(tool, ThreeBrokerCluster.start(chroot, configs), dir);
        } catch (Exception | Error e) {
            TempDirs.delete(dir);
            throw e;
        }
    }

    ThreeBrokerCluster cluster() {
        return cluster;
    }

    List<EmbeddedBroker> brokers() {
        return cluster.brokers();
    }

    /** A temporary folder for the tool's files, deleted on {@link #close}. */
    Path dir() {
        return dir;
    }

    /** Runs the tool with a real admin client. */
    Result run(String... args) {
        return ToolRun.capture((out, err) -> tool.run(args, out, err, Admin::create));
    }

    /** Runs the tool where it must fail before it asks for an admin client (a usage error). */
    Result runWithoutServer(String... args) {
        return ToolRun.capture((out, err) -> tool.run(args, out, err, p -> fail("no admin expected")));
    }

    @Override
    public void close() throws Exception {
        try {
            cluster.close();
        } finally {
            TempDirs.delete(dir);
        }
    }
}
