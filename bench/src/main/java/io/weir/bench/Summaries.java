package io.weir.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the tools' summary lines (Kafka's formats) into named figures. The patterns are the
 * contract: the tests check the tools' output against them and weir-bench reads results with them.
 */
public final class Summaries {
    private static final String NUM = "(-?[0-9]+(?:\\.[0-9]+)?)";

    /** Kafka's producer perf final line. */
    public static final Pattern PRODUCER_TOTAL = Pattern.compile(
        "^([0-9]+) records sent, " + NUM + " records/sec \\(" + NUM + " MB/sec\\), " + NUM + " ms avg latency, "
            + NUM + " ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99\\.9th\\.$");

    /** Kafka's producer perf progress line. */
    public static final Pattern PRODUCER_PROGRESS = Pattern.compile(
        "^([0-9]+) records sent, " + NUM + " records/sec \\(" + NUM + " MB/sec\\), " + NUM + " ms avg latency, "
            + NUM + " ms max latency\\.$");

    /** Kafka's consumer perf figures line (after the header). */
    public static final Pattern CONSUMER = Pattern.compile(
        "^([^,]+), ([^,]+), " + NUM + ", " + NUM + ", ([0-9]+), " + NUM + ", (-?[0-9]+), (-?[0-9]+), " + NUM + ", " + NUM + "$");

    public static final Pattern E2E = Pattern.compile(
        "^E2E latency: ([0-9]+) records at " + NUM + " records/sec, avg " + NUM + " ms, p50 " + NUM + " ms, p90 "
            + NUM + " ms, p99 " + NUM + " ms, p99\\.9 " + NUM + " ms, max " + NUM + " ms\\.$");

    private Summaries() {
    }

    public static Map<String, Double> producer(List<String> lines) {
        Matcher m = last(PRODUCER_TOTAL, lines);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("records", Double.parseDouble(m.group(1)));
        out.put("records/s", Double.parseDouble(m.group(2)));
        out.put("MB/s", Double.parseDouble(m.group(3)));
        out.put("avg ms", Double.parseDouble(m.group(4)));
        out.put("max ms", Double.parseDouble(m.group(5)));
        out.put("p50 ms", Double.parseDouble(m.group(6)));
        out.put("p95 ms", Double.parseDouble(m.group(7)));
        out.put("p99 ms", Double.parseDouble(m.group(8)));
        out.put("p99.9 ms", Double.parseDouble(m.group(9)));
        return out;
    }

    public static Map<String, Double> consumer(List<String> lines) {
        Matcher m = last(CONSUMER, lines);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("MB", Double.parseDouble(m.group(3)));
        out.put("MB/s", Double.parseDouble(m.group(4)));
        out.put("records", Double.parseDouble(m.group(5)));
        out.put("records/s", Double.parseDouble(m.group(6)));
        out.put("rebalance ms", Double.parseDouble(m.group(7)));
        out.put("fetch ms", Double.parseDouble(m.group(8)));
        out.put("fetch MB/s", Double.parseDouble(m.group(9)));
        out.put("fetch records/s", Double.parseDouble(m.group(10)));
        return out;
    }

    public static Map<String, Double> e2e(List<String> lines) {
        Matcher m = last(E2E, lines);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("records", Double.parseDouble(m.group(1)));
        out.put("records/s", Double.parseDouble(m.group(2)));
        out.put("avg ms", Double.parseDouble(m.group(3)));
        out.put("p50 ms", Double.parseDouble(m.group(4)));
        out.put("p90 ms", Double.parseDouble(m.group(5)));
        out.put("p99 ms", Double.parseDouble(m.group(6)));
        out.put("p99.9 ms", Double.parseDouble(m.group(7)));
        out.put("max ms", Double.parseDouble(m.group(8)));
        return out;
    }

    private static Matcher last(Pattern pattern, List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            Matcher m = pattern.matcher(lines.get(i).trim());
            if (m.matches()) {
                return m;
            }
        }
        throw new IllegalArgumentException("no line matching " + pattern.pattern() + " in the output:\n" + String.join("\n", lines));
    }
}
