package io.weir.bench;

import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Send-to-acknowledgement latencies and counts for {@link ProducerPerformance}, printed in the exact
 * line formats of Apache Kafka's producer perf tool so scripts written for it parse ours.
 *
 * <p>Thread-safety: {@link #record} is called from the client's single I/O (callback) thread, which
 * also prints the 5-second progress lines; {@link #printTotal} is called after the producer is closed,
 * which orders it after every callback.
 */
final class ProducerStats {
    static final long REPORTING_INTERVAL_MS = 5_000;
    private static final double MB = 1024.0 * 1024.0;

    private final PrintStream out;
    private final long startNs;
    private final long reportingIntervalNs;
    private final Histogram total = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
    private long count;
    private long bytes;
    private long maxLatencyUs;
    private double sumLatencyUs;

    private long windowStartNs;
    private long windowCount;
    private long windowBytes;
    private long windowMaxUs;
    private double windowSumUs;

    ProducerStats(PrintStream out, long startNs, long reportingIntervalMs) {
        this.out = out;
        this.startNs = startNs;
        this.windowStartNs = startNs;
        this.reportingIntervalNs = TimeUnit.MILLISECONDS.toNanos(reportingIntervalMs);
    }

    void record(long latencyUs, int sizeBytes, long nowNs) {
        long us = Math.max(0, latencyUs);
        total.recordValue(Math.min(us, total.getHighestTrackableValue()));
        count++;
        bytes += sizeBytes;
        sumLatencyUs += us;
        maxLatencyUs = Math.max(maxLatencyUs, us);
        windowCount++;
        windowBytes += sizeBytes;
        windowSumUs += us;
        windowMaxUs = Math.max(windowMaxUs, us);
        if (nowNs - windowStartNs >= reportingIntervalNs) {
            printWindow(nowNs);
            windowStartNs = nowNs;
            windowCount = 0;
            windowBytes = 0;
            windowSumUs = 0;
            windowMaxUs = 0;
        }
    }

    long count() {
        return count;
    }

    private void printWindow(long nowNs) {
        double elapsedSec = (nowNs - windowStartNs) / 1e9;
        out.printf(Locale.ROOT, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.%n",
            windowCount, windowCount / elapsedSec, windowBytes / MB / elapsedSec,
            windowCount == 0 ? 0.0 : windowSumUs / windowCount / 1000.0, windowMaxUs / 1000.0);
    }

    /** Kafka's final line: counts and rates since start, then latency percentiles in whole ms. */
    void printTotal(long endNs) {
        double elapsedSec = Math.max(1, endNs - startNs) / 1e9;
        out.printf(Locale.ROOT, "%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "
                + "%d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.%n",
            count, count / elapsedSec, bytes / MB / elapsedSec,
            count == 0 ? 0.0 : sumLatencyUs / count / 1000.0, maxLatencyUs / 1000.0,
            percentileMs(50), percentileMs(95), percentileMs(99), percentileMs(99.9));
    }

    private long percentileMs(double p) {
        return count == 0 ? 0 : total.getValueAtPercentile(p) / 1000;
    }
}
