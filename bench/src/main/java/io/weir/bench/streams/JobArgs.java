package io.weir.bench.streams;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The arguments both streams benchmark jobs take ({@code --key value} pairs), so the harness starts Weir streams
 * and Kafka Streams the same way: {@code --job wordcount|window|table}, {@code --bootstrap-server},
 * {@code --application-id}, {@code --input}, {@code --output}, {@code --state-dir}, {@code --threads},
 * {@code --commit-interval-ms}, {@code --session-timeout-ms}, {@code --transactional-statestores} (Kafka Streams only), {@code --snapshot-dir} and
 * {@code --snapshot-interval-ms} (Weir only: {@code state.snapshot.dir}).
 */
public final class JobArgs {
    /** Printed on stdout (with the wall-clock ms) when the job first reaches RUNNING. */
    public static final String RUNNING_LINE = "BENCH-JOB RUNNING ";
    /** Printed beside it: the changelog records the job restored before it got there (its own restore counts). */
    public static final String RESTORED_LINE = "BENCH-JOB RESTORED ";

    private final Map<String, String> values;

    private JobArgs(Map<String, String> values) {
        this.values = values;
    }

    public static JobArgs parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --key value pairs, got " + String.join(" ", args));
            }
            values.put(args[i].substring(2), args[i + 1]);
        }
        return new JobArgs(values);
    }

    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    public String get(String key, String defaultValue) {
        return values.getOrDefault(key, defaultValue);
    }

    /**
     * The streams properties both jobs set alike (Kafka Streams and Weir streams name these keys the same):
     * application id, bootstrap, state dir, threads, commit interval, and the same group timing for both systems,
     * so a restart after SIGKILL waits out the dead member's session the same time. Each job adds its own
     * processing guarantee and system-only settings.
     */
    public Properties commonStreamsProperties() {
        Properties p = new Properties();
        p.put("application.id", get("application-id"));
        p.put("bootstrap.servers", get("bootstrap-server"));
        p.put("state.dir", get("state-dir"));
        p.put("num.stream.threads", get("threads", "1"));
        p.put("commit.interval.ms", get("commit-interval-ms", "100"));
        p.put("consumer.session.timeout.ms", get("session-timeout-ms", "6000"));
        p.put("consumer.heartbeat.interval.ms", "1500");
        return p;
    }

    /** Prints the lines the harness waits for once the job reaches RUNNING: the wall-clock ms, then the records restored. */
    public static void printRunning(long restoredRecords) {
        System.out.println(RUNNING_LINE + System.currentTimeMillis());
        System.out.println(RESTORED_LINE + restoredRecords);
    }

    /** The words of a word-count input line (split on spaces). */
    public static String[] words(String line) {
        return line.split(" ");
    }

    /** The window size of the window job (tumbling windows of 10 s with 5 s grace). */
    public static final long WINDOW_SIZE_MS = 10_000;
    public static final long WINDOW_GRACE_MS = 5_000;
}
