package io.weir.common.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child process's output read on a daemon thread, so a hung child cannot block a test in a pipe read
 * that no timeout can interrupt: start {@link #drain} right after the child starts, wait for the child with
 * a timeout, then take {@link #drained}. All methods static.
 */
public final class ChildOutput {
    private ChildOutput() {
    }

    /** Reads {@code in} to its end on a daemon thread. */
    public static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> out = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                out.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.completeExceptionally(e);
            }
        }, "child-output");
        t.setDaemon(true);
        t.start();
        return out;
    }

    /** What {@link #drain} read, or what went wrong reading it (the child is gone, so its pipe has ended). */
    public static String drained(CompletableFuture<String> out) {
        try {
            return out.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return "(output unreadable: " + e + ")";
        }
    }
}
