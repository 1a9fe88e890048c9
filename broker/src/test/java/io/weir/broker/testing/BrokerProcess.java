package io.weir.broker.testing;

import io.weir.common.testing.Wait;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A broker in its own JVM, started the way bin/weir-server-start.sh starts it (main class
 * {@code io.weir.broker.WeirServer} with a properties file and {@code --override}s), so tests can
 * kill it with SIGKILL or stop it with SIGTERM. Output goes to a log file in its directory.
 *
 * <p>Ports, race-free: the first start listens on port 0, so the broker's own bind picks a free port (a port
 * picked here and released before the child binds it could be taken in between by any other socket). The port is
 * read from the broker's "started, listening on" log line, which also says the broker is fully started. Every
 * later start of the same instance listens on that same port again, since clients and proxies were given it; a
 * restart whose bind fails because something took the port while the broker was down is started again.
 */
public final class BrokerProcess implements AutoCloseable {
    /** Bounds a broken start only: a JVM's start and log recovery on a loaded, shared 2-core machine are slow. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    /** Restarts on a taken port that are tried before giving up (each costs a JVM start). */
    private static final int BIND_ATTEMPTS = 20;
    /** Broker's last startup line; its INFO level is forced on in the child whatever the module's log config says. */
    private static final Pattern STARTED = Pattern.compile("Weir broker \\d+ started, listening on [^\\s:]+:(\\d+)(?=\\D)");
    private static final String CANNOT_LISTEN = "cannot listen on";

    private final Path dir;
    private final Path logDir;
    private final Path out;
    private int port;          // 0 until the first start bound one
    private Process process;

    public BrokerProcess(Path dir) {
        this.dir = dir;
        this.logDir = dir.resolve("logs");
        this.out = dir.resolve("broker.out");
    }

    public BrokerProcess start(String... overrides) throws IOException, InterruptedException {
        return startWithJvmArgs(List.of(), overrides);
    }

    /**
     * Starts the broker JVM with extra JVM arguments (e.g. a {@code -Dweir.fault...} fault-injection
     * property) before the main class; they apply to this start only. Returns once the broker has logged
     * that it started.
     */
    public BrokerProcess startWithJvmArgs(List<String> jvmArgs, String... overrides)
        throws IOException, InterruptedException {
        Files.createDirectories(dir);
        for (int attempt = 1; ; attempt++) {
            long from = Files.exists(out) ? Files.size(out) : 0;
            launch(jvmArgs, overrides);
            int bound = awaitStarted(from);
            if (bound > 0) {
                port = bound;
                return this;
            }
            String tail = outputSince(from);
            // only a restart asks for a fixed port: a port 0 start never fails to bind a free one
            if (port == 0 || !tail.contains(CANNOT_LISTEN) || attempt == BIND_ATTEMPTS) {
                throw new IllegalStateException("broker exited with " + process.exitValue() + ": " + tail);
            }
        }
    }

    private void launch(List<String> jvmArgs, String... overrides) throws IOException {
        Path props = dir.resolve("server.properties");
        Files.writeString(props, "broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:" + port + "\nlog.dirs=" + logDir
            + "\nnum.network.threads=2\nnum.io.threads=4\n", StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m", "-Dorg.slf4j.simpleLogger.log.io.weir.broker.Broker=info"));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.weir.broker.WeirServer", props.toString()));
        for (String o : overrides) {
            cmd.add("--override");
            cmd.add(o);
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
    }

    /** The port the broker logged it started on (after byte {@code from} of its output), or -1 if it exited first. */
    private int awaitStarted(long from) throws InterruptedException {
        int[] bound = {-1};
        try {
            Wait.until(() -> {
                Matcher m = STARTED.matcher(outputSince(from));
                if (m.find()) {
                    bound[0] = Integer.parseInt(m.group(1));
                    return true;
                }
                return !process.isAlive();
            }, START_TIMEOUT, () -> "the broker in " + dir + " to log that it started (it is "
                + (process.isAlive() ? "running" : "gone") + "): " + outputSince(from));
        } catch (AssertionError e) {
            process.destroyForcibly();   // never leave a half-started broker behind
            throw e;
        }
        if (bound[0] < 0) {
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                throw e;
            }
        }
        return bound[0];
    }

    private String outputSince(long from) {
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocate((int) Math.max(0, size - from));
            while (buf.hasRemaining() && ch.read(buf, from + buf.position()) >= 0) {
                // reads until the size seen at the open (the child may append more; the next poll reads it)
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + out, e);
        }
    }

    /** Everything the broker's JVMs printed, over all starts. */
    public String output() {
        try {
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port();
    }

    /** The listener's port; the broker must have been started once. */
    public int port() {
        if (port == 0) {
            throw new IllegalStateException("the broker in " + dir + " was never started: it has no port yet");
        }
        return port;
    }

    /** The broker JVM's process id (to pause it with SIGSTOP, for example); the process must have been started. */
    public long pid() {
        return process.pid();
    }

    public Path logDir() {
        return logDir;
    }

    /** Waits for the broker JVM to exit on its own (at most {@code timeout}); returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the broker in " + dir + " did not exit within " + timeout + ": " + output());
        }
        return process.exitValue();
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
