package io.weir.streams;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The argument handling of {@link StreamsJobRunner} (bin/weir-streams-run.sh). Running a job against a
 * broker, and stopping it by SIGTERM or SIGKILL, is in {@link WeirStreamsIntegrationTest}.
 */
class StreamsJobRunnerTest {
    static volatile List<String> mainArgs;

    /** A job shaped as a plain main class. */
    public static final class MainJob {
        public static void main(String[] args) {
            mainArgs = List.of(args);
        }
    }

    private record Run(int status, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = StreamsJobRunner.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRefuseMissingOrUnknownOptionsWithUsage() {
        Run r = run("--config", "x.properties");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--class is required") && r.err().contains("Usage"), r.err());
        r = run("--class", WordCountJob.class.getName(), "--bogus", "1");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("Unknown option: --bogus"), r.err());
        r = run("--class", WordCountJob.class.getName(), "--property", "novalue");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("key=value"), r.err());
    }

    @Test
    void shouldNameAClassThatCannotBeLoadedOrRun() {
        Run r = run("--class", "com.example.NoSuchJob");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("com.example.NoSuchJob"), r.err());
        r = run("--class", String.class.getName());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("neither implements"), r.err());
    }

    @Test
    void shouldCallTheMainOfAPlainClassWithTheJobArgs() {
        mainArgs = null;
        Run r = run("--class", MainJob.class.getName(), "--", "a", "--b");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("a", "--b"), mainArgs);
    }

    @Test
    void shouldRefuseAJobWithoutItsRequiredConfig() {
        Run r = run("--class", WordCountJob.class.getName(), "--property", "application.id=wc",
            "--property", "wordcount.input=in", "--property", "wordcount.output=out");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("bootstrap.servers"), r.err());
    }
}
