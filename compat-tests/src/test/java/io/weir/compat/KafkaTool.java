package io.weir.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One of Apache Kafka's command-line tools, run through its main class in a JVM of its own: the tools end with
 * {@code Exit.exit}, so running them in the test's JVM would end the test run. The forked JVM uses this module's test
 * classpath (written by maven-dependency-plugin to the file named by {@code weir.compat.toolClasspath}), which holds
 * the kafka-tools jar and its kafka-clients.
 */
final class KafkaTool {
    /** Start-up options that cut a short-lived JVM's start time; the tools' logging goes to stderr at WARN. */
    private static final List<String> JVM_OPTIONS = List.of(
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dorg.slf4j.simpleLogger.logFile=System.err");
    private static final long TIMEOUT_SECONDS = 120;

    static final String TOPICS = "org.apache.kafka.tools.TopicCommand";
    static final String CONFIGS = "org.apache.kafka.tools.ConfigCommand";
    static final String CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
    static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    static final String CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    static final String GET_OFFSETS = "org.apache.kafka.tools.GetOffsetShell";
    static final String VERIFIABLE_PRODUCER = "org.apache.kafka.tools.VerifiableProducer";
    static final String VERIFIABLE_CONSUMER = "org.apache.kafka.tools.VerifiableConsumer";
    static final String DELETE_RECORDS = "org.apache.kafka.tools.DeleteRecordsCommand";
    static final String LOG_DIRS = "org.apache.kafka.tools.LogDirsCommand";
    static final String LEADER_ELECTION = "org.apache.kafka.tools.LeaderElectionCommand";
    static final String TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand";

    private static String classpath;

    private KafkaTool() {
    }

    static synchronized String classpath() {
        if (classpath == null) {
            String file = System.getProperty("weir.compat.toolClasspath");
            if (file == null) {
                throw new IllegalStateException("weir.compat.toolClasspath is not set (run through Maven)");
            }
            try {
                classpath = Files.readString(Path.of(file)).strip();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return classpath;
    }

    /** Runs the tool and returns what it left behind, whatever its exit code. */
    static ForkedProcess.Result run(String mainClass, String stdin, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(ForkedProcess.javaCommand(classpath(), mainClass, JVM_OPTIONS));
        cmd.addAll(List.of(args));
        long started = System.nanoTime();
        ForkedProcess.Result r = ForkedProcess.run(null, stdin, TIMEOUT_SECONDS, cmd);
        // in the test's output file, to see where the time of this suite goes
        System.out.printf("%s %s: exit %d after %d ms%n", mainClass.substring(mainClass.lastIndexOf('.') + 1),
                String.join(" ", args), r.exitCode(), (System.nanoTime() - started) / 1_000_000);
        return r;
    }

    /** Runs the tool, asserts it exited 0 and returns its output. */
    static ForkedProcess.Result ok(String mainClass, String stdin, String... args)
            throws IOException, InterruptedException {
        ForkedProcess.Result r = run(mainClass, stdin, args);
        assertEquals(0, r.exitCode(), () -> mainClass + " " + String.join(" ", args) + "\n" + r);
        return r;
    }
}
