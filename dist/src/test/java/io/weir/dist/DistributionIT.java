package io.weir.dist;

import io.weir.common.testing.ChildOutput;
import io.weir.common.testing.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Unpacks the release tarball into a temporary directory and uses it as a user would: starts the
 * broker with {@code bin/weir-server-start.sh config/server.properties} from an unrelated working
 * directory, creates a topic, produces and consumes with the console tools, then stops the broker
 * with SIGTERM. A {@code mvn} placed first on the PATH fails loudly, proving the scripts need no
 * Maven and no source tree; {@code libs/} must hold no test-scope jar.
 */
class DistributionIT {
    private Process broker;
    private final List<Process> others = new ArrayList<>();

    @AfterEach
    void stopBroker() throws InterruptedException {
        if (broker != null && broker.isAlive()) {
            broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        for (Process p : others) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static Path unpack(Path tmp) throws Exception {
        Path tgz = Paths.get(System.getProperty("weir.dist.tgz"));
        assertTrue(Files.isRegularFile(tgz), "missing " + tgz);
        Path unpacked = tmp.resolve("unpacked");
        Files.createDirectories(unpacked);
        run(tmp, List.of("tar", "xzf", tgz.toString(), "-C", unpacked.toString()), Map.of(), 60);
        try (Stream<Path> s = Files.list(unpacked)) {
            return s.findFirst().orElseThrow();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * The cluster preview from the tarball: a ZooKeeper server started with
     * {@code bin/weir-zookeeper-start.sh} (ZooKeeper's own main and config keys) and two brokers joined
     * to it with {@code zookeeper.connect} (and a chroot); a topic created through the controller is
     * spread over both, and both stop cleanly.
     */
    @Test
    void shouldRunAZooKeeperAndTwoBrokersFromTheUnpackedTarball(@TempDir Path tmp) throws Exception {
        Path home = unpack(tmp);
        Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"), "WEIR_HEAP_OPTS", "-Xmx256m");
        int zkPort = freePort();
        String zkConfig = Files.readString(home.resolve("config/zookeeper.properties"))
            .replace("dataDir=/tmp/zookeeper", "dataDir=" + tmp.resolve("zk"))
            .replace("clientPort=2181", "clientPort=" + zkPort);
        Path zkProps = tmp.resolve("zookeeper.properties");
        Files.writeString(zkProps, zkConfig);
        Path zkOut = tmp.resolve("zookeeper.out");
        ProcessBuilder zk = new ProcessBuilder(home.resolve("bin/weir-zookeeper-start.sh").toString(), zkProps.toString())
            .redirectErrorStream(true).redirectOutput(zkOut.toFile());
        zk.environment().putAll(env);
        others.add(zk.start());
        awaitListening(zkPort, zkOut);

        List<Integer> ports = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (int id = 1; id <= 2; id++) {
            Path out = tmp.resolve("broker-" + id + ".out");
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/weir-server-start.sh").toString(),
                home.resolve("config/server.properties").toString(),
                "--override", "broker.id=" + id,
                "--override", "zookeeper.connect=127.0.0.1:" + zkPort + "/weir",
                "--override", "log.dirs=" + tmp.resolve("logs-" + id),
                "--override", "listeners=PLAINTEXT://127.0.0.1:0")
                .redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().putAll(env);
            Process broker = pb.start();
            others.add(broker);
            ports.add(awaitStarted(broker, out));
            outs.add(out);
        }
        String bootstrap = "127.0.0.1:" + ports.get(1);
        String topics = home.resolve("bin/weir-topics.sh").toString();
        String out = run(tmp, List.of(topics, "--bootstrap-server", bootstrap, "--create", "--topic", "zk-t",
            "--partitions", "4"), env, 120);
        assertTrue(out.contains("Created topic zk-t."), out);
        out = run(tmp, List.of(topics, "--bootstrap-server", bootstrap, "--describe", "--topic", "zk-t"), env, 120);
        assertTrue(out.contains("Leader: 1") && out.contains("Leader: 2"), "partitions on both brokers:\n" + out);

        for (int i = 1; i < others.size(); i++) {
            others.get(i).destroy(); // SIGTERM
            assertTrue(others.get(i).waitFor(60, TimeUnit.SECONDS), "broker stopped on SIGTERM");
            assertTrue(Files.readString(outs.get(i - 1)).contains("shut down cleanly"), Files.readString(outs.get(i - 1)));
        }
    }

    @Test
    void shouldRunBrokerAndToolsFromTheUnpackedTarball(@TempDir Path tmp) throws Exception {
        Path tgz = Paths.get(System.getProperty("weir.dist.tgz"));
        assertTrue(Files.isRegularFile(tgz), "missing " + tgz);
        Path unpacked = tmp.resolve("unpacked");
        Files.createDirectories(unpacked);
        run(tmp, List.of("tar", "xzf", tgz.toString(), "-C", unpacked.toString()), Map.of(), 60);
        Path home;
        try (Stream<Path> s = Files.list(unpacked)) {
            home = s.findFirst().orElseThrow();
        }
        for (String f : List.of("bin/weir-server-start.sh", "bin/weir-zookeeper-start.sh", "bin/weir-topics.sh",
            "config/server.properties", "config/zookeeper.properties",
            "README.md")) {
            assertTrue(Files.exists(home.resolve(f)), f + " is in the distribution");
        }
        List<String> libs;
        try (Stream<Path> s = Files.list(home.resolve("libs"))) {
            libs = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(libs.stream().anyMatch(n -> n.startsWith("weir-broker-")), libs.toString());
        assertTrue(libs.stream().anyMatch(n -> n.startsWith("weir-tools-")), libs.toString());
        for (String n : libs) {
            assertFalse(n.startsWith("junit") || n.startsWith("kafka-clients") || n.startsWith("curator-test")
                || n.startsWith("jqwik") || n.contains("-tests"), "test-scope jar in libs/: " + n);
        }

        // a mvn that fails: the scripts of a distribution must never build
        Path fakeBin = tmp.resolve("fake-bin");
        Files.createDirectories(fakeBin);
        Path marker = tmp.resolve("mvn-was-called");
        Path mvn = fakeBin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\ntouch '" + marker + "'\nexit 99\n");
        mvn.toFile().setExecutable(true);
        Map<String, String> env = Map.of("PATH", fakeBin + ":" + System.getenv("PATH"),
            "JAVA_HOME", System.getProperty("java.home"), "WEIR_HEAP_OPTS", "-Xmx256m");

        Path workDir = tmp.resolve("elsewhere");
        Files.createDirectories(workDir);
        Path brokerOut = tmp.resolve("broker.out");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/weir-server-start.sh").toString(),
            home.resolve("config/server.properties").toString(),
            "--override", "log.dirs=" + tmp.resolve("logs"),
            "--override", "listeners=PLAINTEXT://127.0.0.1:0")
            .directory(workDir.toFile()).redirectErrorStream(true).redirectOutput(brokerOut.toFile());
        pb.environment().putAll(env);
        broker = pb.start();
        String bootstrap = "127.0.0.1:" + awaitStarted(broker, brokerOut);

        String topics = home.resolve("bin/weir-topics.sh").toString();
        String out = run(workDir, List.of(topics, "--bootstrap-server", bootstrap, "--create", "--topic", "dist-t",
            "--partitions", "2"), env, 120);
        assertTrue(out.contains("Created topic dist-t."), out);

        Path input = tmp.resolve("input.txt");
        Files.writeString(input, "k1:one\nk2:two\nk3:three\n");
        ProcessBuilder producer = new ProcessBuilder(home.resolve("bin/weir-console-producer.sh").toString(),
            "--bootstrap-server", bootstrap, "--topic", "dist-t", "--property", "parse.key=true",
            "--property", "key.separator=:")
            .directory(workDir.toFile()).redirectInput(input.toFile()).redirectErrorStream(true);
        producer.environment().putAll(env);
        String produced = finish(producer.start(), 120);

        out = run(workDir, List.of(home.resolve("bin/weir-console-consumer.sh").toString(), "--bootstrap-server",
            bootstrap, "--topic", "dist-t", "--from-beginning", "--max-messages", "3", "--property", "print.key=true",
            "--timeout-ms", "60000"), env, 120);
        List<String> lines = new ArrayList<>(out.lines().filter(l -> l.startsWith("k")).sorted().toList());
        assertEquals(List.of("k1\tone", "k2\ttwo", "k3\tthree"), lines, "producer said: " + produced + "\nconsumer: " + out);

        broker.destroy(); // SIGTERM: the clean stop
        assertTrue(broker.waitFor(60, TimeUnit.SECONDS), "broker stopped on SIGTERM");
        assertTrue(Files.exists(tmp.resolve("logs").resolve(".clean_shutdown")),
            "clean-shutdown marker written: " + Files.readString(brokerOut));
        assertFalse(Files.exists(marker), "a script of the distribution called mvn");
    }

    /**
     * Waits until a broker started on port 0 (its own bind picks a free port: one picked here and released first
     * could be taken before the broker binds it) logs that it started, and returns the port that line names.
     */
    private static int awaitStarted(Process broker, Path out) throws Exception {
        Pattern started = Pattern.compile("Weir broker \\d+ started, listening on [^\\s:]+:(\\d+)(?=\\D)");
        int[] port = {-1};
        Wait.until(() -> {
            Matcher m = started.matcher(readQuietly(out));
            if (m.find()) {
                port[0] = Integer.parseInt(m.group(1));
                return true;
            }
            return !broker.isAlive();
        }, Duration.ofSeconds(120), () -> "the broker to log that it started:\n" + readQuietly(out));
        assertTrue(port[0] > 0, "the broker exited:\n" + readQuietly(out));
        return port[0];
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static void awaitListening(int port, Path brokerOut) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        fail("broker did not listen on " + port + ":\n" + Files.readString(brokerOut));
    }

    private static String run(Path dir, List<String> cmd, Map<String, String> env, int timeoutSeconds)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        return finish(pb.start(), timeoutSeconds);
    }

    private static String finish(Process p, int timeoutSeconds) throws Exception {
        p.getOutputStream().close();
        java.util.concurrent.CompletableFuture<String> output = ChildOutput.drain(p.getInputStream());
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);   // a script's java child holds the pipe too
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            fail("timed out after " + timeoutSeconds + " s: " + ChildOutput.drained(output));
        }
        String out = ChildOutput.drained(output);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
