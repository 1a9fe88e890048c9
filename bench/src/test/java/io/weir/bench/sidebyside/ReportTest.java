package io.weir.bench.sidebyside;

import io.weir.bench.Summaries;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {
    @TempDir
    Path dir;

    /** A distribution as the e2e tool writes it: µs recorded, printed in ms. */
    private static List<String> distribution(long... micros) {
        Histogram h = new Histogram(60_000_000L, 3);
        for (long v : micros) {
            h.recordValue(v);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        h.outputPercentileDistribution(new PrintStream(out, true, StandardCharsets.UTF_8), 1000.0);
        return List.of(out.toString(StandardCharsets.UTF_8).split("\n"));
    }

    /** {@code n} values rising from {@code lowMicros}, with a long tail up to {@code maxMicros}. */
    private static long[] spread(int n, long lowMicros, long maxMicros) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            double tail = 1.0 / (1.0 - (double) i / n); // 1 .. n: the e2e tool's kind of tail
            v[i] = Math.min(maxMicros, (long) (lowMicros * tail));
        }
        return v;
    }

    @Test
    void shouldReadAPercentileDistributionAsRisingPointsWithoutTheInfiniteLastLine() {
        long[] values = new long[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = 1000 + i * 10L; // 1.00 .. 10.99 ms
        }
        List<double[]> points = Summaries.percentileCurve(distribution(values));

        assertTrue(points.size() > 10);
        assertEquals(1.0, points.get(0)[0], 0.01);
        assertEquals(0.0, points.get(0)[1]);
        for (int i = 1; i < points.size(); i++) {
            assertTrue(points.get(i)[0] >= points.get(i - 1)[0], "latency rises with the percentile");
            assertTrue(points.get(i)[1] > points.get(i - 1)[1]);
            assertTrue(points.get(i)[1] < 1.0, "the 100% line (1/(1-p) infinite) is left out");
        }
    }

    @Test
    void shouldDivideEachBrokersTransactionalThroughputByItsTwins() throws Exception {
        Scenario scenario = Scenario.load(Path.of("scenarios/txn-1kb-100ms.properties"), Map.of());
        String plain = "txn-1kb-100ms transaction.duration.ms=0";
        String txn = "txn-1kb-100ms transaction.duration.ms=100";
        List<Measurement> results = List.of(
            new Measurement(plain, "Weir", "kafka", 0, Map.of("produce records/s", 1000.0)),
            new Measurement(txn, "Weir", "kafka", 0, Map.of("produce records/s", 990.0, "produce transactions/s", 9.0,
                "produce records/transaction", 110.0)),
            new Measurement(plain, "Kafka", "kafka", 0, Map.of("produce records/s", 800.0)),
            new Measurement(txn, "Kafka", "kafka", 0, Map.of("produce records/s", 600.0, "produce transactions/s", 8.0)));

        Path md = new Report(scenario, results, List.of("Weir", "Kafka"), "bin/weir-bench.sh txn-1kb-100ms",
            List.of(), Map.of(), "-Xmx1G", Map.of()).write(dir, "t");

        String text = Files.readString(md);
        assertTrue(text.contains("## Transactional / non-transactional produce records/s"), text);
        assertTrue(text.contains("| transaction.duration.ms=100 vs transaction.duration.ms=0 | kafka | **0.990** (cost 1.0%) | "
            + "**0.750** (cost 25.0%) |"), text);
        assertTrue(text.contains("| produce transactions/s ↑ |"), text);
        assertTrue(text.contains("| produce records/transaction | 110.0 (110.0–110.0) | – | – |"), "neither better nor worse: " + text);
    }

    @Test
    void shouldLabelTheLogAxisByPercentile() {
        assertEquals("0%", Report.percentileLabel(0));
        assertEquals("90%", Report.percentileLabel(1));
        assertEquals("99%", Report.percentileLabel(2));
        assertEquals("99.9%", Report.percentileLabel(3));
        assertEquals("99.99%", Report.percentileLabel(4));
    }

    @Test
    void shouldDrawAPercentileCurveBesideTheOtherChartsForAnE2eScenario() throws Exception {
        Scenario scenario = Scenario.load(Path.of("scenarios/e2e-10k-1kb.properties"), Map.of());
        Measurement weir = new Measurement("e2e-10k-1kb", "Weir", "kafka", 0, Map.of("e2e p50 ms", 1.0, "e2e p99 ms", 3.0));
        Measurement kafka = new Measurement("e2e-10k-1kb", "Kafka", "kafka", 0, Map.of("e2e p50 ms", 2.0, "e2e p99 ms", 9.0));
        Map<Measurement, List<double[]>> curves = Map.of(
            weir, Summaries.percentileCurve(distribution(spread(200_000, 1_000, 450_000))),
            kafka, Summaries.percentileCurve(distribution(spread(200_000, 1_500, 2_500_000))));

        Path md = new Report(scenario, List.of(weir, kafka), List.of("Weir", "Kafka"), "bin/weir-bench.sh e2e-10k-1kb",
            List.of(), Map.of(), "-Xmx1G", curves).write(dir, "t");

        String text = Files.readString(md);
        assertTrue(text.contains("![latency by percentile](e2e-10k-1kb-t-latency-curve.png)"), text);
        assertTrue(Files.size(dir.resolve("e2e-10k-1kb-t-latency-curve.png")) > 0);
        assertTrue(Files.exists(dir.resolve("e2e-10k-1kb-t-latency.png")));
    }
}
