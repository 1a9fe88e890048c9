package io.weir.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A broker in its own JVM, started the way bin/weir-server-start.sh starts it (main class
 * {@code io.weir.broker.WeirServer} with a properties file and {@code --override}s), so tests can
 * kill it with SIGKILL or stop it with SIGTERM. Output goes to a log file in its directory.
 */
public final class BrokerProcess implements AutoCloseable {
    private final Path dir;
    private final Path logDir;
    private final int port;
    private Process process;

    public BrokerProcess(Path dir) {
        this.dir = dir;
        this.logDir = dir.resolve("logs");
        this.port = freePort();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public BrokerProcess start(String... overrides) throws IOException, InterruptedException {
        return startWithJvmArgs(List.of(), overrides);
    }

    /**
     * Starts the broker JVM with extra JVM arguments (e.g. a {@code -Dweir.fault...} fault-injection
     * property) before the main class; they apply to this start only.
     */
    public BrokerProcess startWithJvmArgs(List<String> jvmArgs, String... overrides)
        throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path props = dir.resolve("server.properties");
        Files.writeString(props, "broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:" + port + "\nlog.dirs=" + logDir
            + "\nnum.network.threads=2\nnum.io.threads=4\n", StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m"));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.weir.broker.WeirServer", props.toString()));
        for (String o : overrides) {
            cmd.add("--override");
            cmd.add(o);
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.out").toFile())).start();
        // generous: a JVM's start on a loaded, shared 2-core machine is slow; this only bounds a broken start
        long deadline = System.currentTimeMillis() + 90_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("broker exited with " + process.exitValue() + ": " + output());
            }
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return this;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        String state = process.isAlive() ? "running" : "gone";
        process.destroyForcibly();   // never leave a half-started broker behind
        throw new IllegalStateException("broker did not listen on " + port + " within 90 s (it was " + state + "): "
            + output());
    }

    public String output() {
        try {
            return Files.readString(dir.resolve("broker.out"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The broker JVM's process id (to pause it with SIGSTOP, for example); the process must have been started. */
    public long pid() {
        return process.pid();
    }

    public Path logDir() {
        return logDir;
    }

    /** SIGKILL: no shutdown hook, no flush. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the broker's shutdown hook stops it cleanly; returns its exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("broker did not stop within 60 s of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
