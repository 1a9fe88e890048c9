package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.ThreeBrokerCluster;
import io.weir.common.testing.TempDirs;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

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
 * either against the cluster or (to check its flags) with an admin factory that must not be called. A test class
 * registers one as a static {@code @RegisterExtension} field: the cluster starts before its first test and stops
 * after its last.
 */
final class AdminToolCluster implements BeforeAllCallback, AfterAllCallback {
    /** An admin tool's entry point, as the tools declare it: {@code run(args, out, err, adminFactory)}. */
    @FunctionalInterface
    interface AdminTool {
        int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory);
    }

    private final AdminTool tool;
    private final String name;
    private final String chroot;
    private final Map<String, String> configs;
    private ThreeBrokerCluster cluster;
    private Path dir;

    /**
     * A cluster for {@code tool}: brokers under ZooKeeper path {@code chroot} with {@code configs}; {@code name}
     * prefixes the temporary folder.
     */
    AdminToolCluster(AdminTool tool, String name, String chroot, Map<String, String> configs) {
        this.tool = tool;
        this.name = name;
        this.chroot = chroot;
        this.configs = configs;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = TempDirs.create(name);
        cluster = ThreeBrokerCluster.start(chroot, configs);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            if (dir != null) {
                TempDirs.delete(dir);
            }
        }
    }

    ThreeBrokerCluster cluster() {
        return cluster;
    }

    List<EmbeddedBroker> brokers() {
        return cluster.brokers();
    }

    /** A temporary folder for the tool's files, deleted after the class's last test. */
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
}
