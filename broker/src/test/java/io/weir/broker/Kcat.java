package io.weir.broker;

import io.weir.common.testing.ChildOutput;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs librdkafka's kcat against a broker for the kcat compatibility tests; they skip where it is not installed. */
final class Kcat {
    private static final Path KCAT = Path.of("/usr/bin/kcat");

    private Kcat() {
    }

    /** Skips the calling test class or test when kcat is not installed. */
    static void assumeInstalled() {
        assumeTrue(Files.isExecutable(KCAT), "kcat is not installed (apt-get install kcat)");
    }

    /**
     * Runs {@code kcat -b bootstrap args...} with {@code stdin} (or none) as its input; fails unless it exits 0
     * within 60 s. Returns its standard output, with its standard error too when {@code withStderr}.
     */
    static String run(String bootstrap, boolean withStderr, String stdin, String... args)
        throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(KCAT.toString(), "-b", bootstrap));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (withStderr) {
            pb.redirectErrorStream(true);
        } else {
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        CompletableFuture<String> output = ChildOutput.drain(p.getInputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("kcat " + String.join(" ", args) + " hung for 60 s; its output: "
                + ChildOutput.drained(output));
        }
        String out = ChildOutput.drained(output);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
