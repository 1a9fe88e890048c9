package io.weir.tools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs a tool's entry point with captured stdout and stderr, for the tools' tests. */
final class ToolRun {
    private ToolRun() {
    }

    /** A finished run: exit status and what it printed. */
    record Result(int status, String out, String err) {
        List<String> lines() {
            return Arrays.asList(out.split("\n"));
        }

        /** The whitespace-separated cells of the stdout line whose first cells are {@code prefix}. */
        List<String> row(String... prefix) {
            for (String line : out.split("\n")) {
                List<String> cells = Arrays.asList(line.trim().split("\\s+"));
                if (cells.size() >= prefix.length && cells.subList(0, prefix.length).equals(List.of(prefix))) {
                    return cells;
                }
            }
            return fail("no row starting with " + List.of(prefix) + " in:\n" + out);
        }
    }

    /** A tool's run method with its output streams supplied. */
    @FunctionalInterface
    interface Tool {
        int run(PrintStream out, PrintStream err);
    }

    static Result capture(Tool tool) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = tool.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Kafka's convention for a usage error: status 1, the message, then the usage text on stderr. */
    static void assertUsageError(Result r, String fragment) {
        assertEquals(1, r.status());
        assertTrue(r.err().contains(fragment), r.err());
        assertTrue(r.err().contains("--bootstrap-server"), "usage must follow the error: " + r.err());
    }
}
