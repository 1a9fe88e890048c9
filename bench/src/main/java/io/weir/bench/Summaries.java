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

    /** The producer tool's line after the final one when it ran transactions (not in Kafka's tool). */
    public static final Pattern PRODUCER_TRANSACTIONS = Pattern.compile(
        "^([0-9]+) transactions committed, " + NUM + " transactions/sec\\.$");

    public static final Pattern E2E = Pattern.compile(
        "^E2E latency: ([0-9]+) records at " + NUM + " records/sec, avg " + NUM + " ms, p50 " + NUM + " ms, p90 "
            + NUM + " ms, p99 " + NUM + " ms, p99\\.9 " + NUM + " ms, max " + NUM + " ms\\.$");

    private Summaries() {
    }

    public static Map<String, Double> producer(List<String> lines) {
        return figures(last(PRODUCER_TOTAL, lines), 1,
            "records", "records/s", "MB/s", "avg ms", "max ms", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms");
    }

    /** The transactions figures ({@code transactions}, {@code transactions/s}), empty when the run had none. */
    public static Map<String, Double> producerTransactions(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (PRODUCER_TRANSACTIONS.matcher(lines.get(i).trim()).matches()) {
                return figures(last(PRODUCER_TRANSACTIONS, lines), 1, "transactions", "transactions/s");
            }
        }
        return Map.of();
    }

    public static Map<String, Double> consumer(List<String> lines) {
        return figures(last(CONSUMER, lines), 3,
            "MB", "MB/s", "records", "records/s", "rebalance ms", "fetch ms", "fetch MB/s", "fetch records/s");
    }

    public static Map<String, Double> e2e(List<String> lines) {
        return figures(last(E2E, lines), 1,
            "records", "records/s", "avg ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
    }

    /** Names consecutive regex groups, starting at {@code firstGroup}, as numbers in line order. */
    private static Map<String, Double> figures(Matcher m, int firstGroup, String... names) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            out.put(names[i], Double.parseDouble(m.group(firstGroup + i)));
        }
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

    /**
     * The points of an HdrHistogram percentile distribution ({@code outputPercentileDistribution}'s
     * text: value, percentile, total count, 1/(1-percentile)) as {value, percentile} pairs in order;
     * header, footer and the final 100% line (whose 1/(1-p) is infinite) are skipped.
     */
    public static List<double[]> percentileCurve(List<String> lines) {
        List<double[]> points = new java.util.ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 4 || line.trim().startsWith("#") || f[3].equals("Infinity")) {
                continue;
            }
            try {
                points.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1])});
            } catch (NumberFormatException e) {
                // the column header
            }
        }
        return points;
    }
}
