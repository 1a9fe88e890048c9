package io.weir.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debugging aid of {@link EndToEndLatency} (issue 14): where the slowest records of an end-to-end run spent
 * their time. Only built when the tool runs with {@code --stages-file}; a normal run has no stamps at all.
 *
 * <p>The tool stamps every record with {@code System.nanoTime()} when it is sent, when {@code send()} returned,
 * when its acknowledgement callback ran and when {@code poll()} handed it out (one JVM, one clock). Records
 * acknowledged together are one batch (callbacks of one batch run back to back; a gap of more than
 * {@link #BATCH_GAP_NS} between two acknowledgements starts a new batch), so a record's wait for its batch to
 * fill is the time until the batch's last record was sent. With the broker's request-stage log
 * ({@code -Dweir.debug.request.stages.sample=1}, see {@code io.weir.broker.network.RequestStages}) each record
 * is also matched to the Produce request that carried it and the Fetch response that delivered it. The log's
 * lines carry offsets, and in a fresh one-partition topic record i is at offset i: its Produce is the one with the
 * greatest base offset at or below i (which also gives exact batches), its Fetch the last one that read from an
 * offset at or below i. (A log without offsets falls back to time: the last Produce whose response was written
 * before the acknowledgement, the last Fetch written before {@code poll()} returned the record.) The parts of
 * this chain add up to the record's end-to-end latency:
 *
 * <pre>
 * fill       sent            -> last record of its batch sent   (linger.ms / batch.size, by design)
 * to-broker  last sent       -> produce request received        (rest of linger, sender wake-up, drain, write, loopback)
 * produce    received        -> produce response handed over    (queue to a handler, validate, append)
 * wake       produce answered -> fetch completed                (a parked fetch woken, or the next fetch arriving)
 * fetch-out  fetch completed -> fetch response written          (read, serialize, network thread)
 * consumer   fetch written   -> poll() handed the record out    (consumer network thread, decode, poll thread)
 * </pre>
 *
 * Both processes read {@code CLOCK_MONOTONIC} through {@code System.nanoTime()}, which Linux keeps one clock
 * for the whole machine, so the stamps are comparable across the two JVMs; the report counts the records whose
 * matched stamps are out of order (sent after the request arrived, or delivered before it was appended), which
 * stays at zero when that holds and the matching is right. Not thread-safe by itself: each array slot is
 * written by one thread (sender, producer callback or poll thread) and read after those threads finished.
 */
final class E2eStages {
    /** Acknowledgements further apart than this belong to different batches. */
    static final long BATCH_GAP_NS = 200_000;

    private final long[] sentNs;
    private final long[] returnedNs;
    private final long[] ackNs;
    private final long[] pollNs;

    E2eStages(long records) {
        if (records > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("--stages-file supports at most " + Integer.MAX_VALUE / 2 + " records");
        }
        int n = (int) records;
        sentNs = new long[n];
        returnedNs = new long[n];
        ackNs = new long[n];
        pollNs = new long[n];
    }

    void sent(long i, long sent, long returned) {
        sentNs[(int) i] = sent;
        returnedNs[(int) i] = returned;
    }

    void acked(long i, long ns) {
        ackNs[(int) i] = ns;
    }

    void polled(long i, long ns) {
        pollNs[(int) i] = ns;
    }

    /** A request's stamps from the broker's log, absolute nanoTime, -1 where it did not pass a stage. */
    record BrokerStamp(String api, long received, long dequeued, long parked, long woken, long responded, long written,
                       long offset) {
        /** When a fetch had its data: woken from the purgatory, else taken by a handler. */
        long completed() {
            return woken >= 0 ? woken : dequeued;
        }
    }

    private static final Pattern STAGE_LINE = Pattern.compile(
        "stages (\\w+) corr=\\S+ conn=\\S+ t0=(\\d+) us: dequeued=(\\S+) parked=(\\S+) woken=(\\S+) responded=(\\S+) "
            + "picked=\\S+ written=(\\S+)(?: offset=(\\d+))?");

    /** The PRODUCE and FETCH stamps of a broker's log (other lines are skipped). */
    static List<BrokerStamp> parseBrokerLog(Path log) throws IOException {
        List<BrokerStamp> out = new ArrayList<>();
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            lines.forEach(line -> {
                Matcher m = STAGE_LINE.matcher(line);
                if (m.find() && (m.group(1).equals("PRODUCE") || m.group(1).equals("FETCH"))) {
                    long t0 = Long.parseLong(m.group(2));
                    out.add(new BrokerStamp(m.group(1), t0, abs(t0, m.group(3)), abs(t0, m.group(4)),
                        abs(t0, m.group(5)), abs(t0, m.group(6)), abs(t0, m.group(7)),
                        m.group(8) == null ? -1 : Long.parseLong(m.group(8))));
                }
            });
        }
        return out;
    }

    private static long abs(long t0, String us) {
        return us.equals("-") ? -1 : t0 + Long.parseLong(us) * 1000;
    }

    /**
     * Writes the breakdown of all measured records and of the slowest 1 % to {@code out}, and one CSV line
     * per slowest-1 % record to {@code csv}. {@code brokerLog} may be null (client-side stages only).
     */
    void report(PrintStream out, long warmup, long received, Path brokerLog, Path csv) throws IOException {
        int n = (int) Math.min(received, sentNs.length);
        int from = (int) Math.min(warmup, n);
        if (n - from < 100) {
            out.println("stages: too few records to break down");
            return;
        }
        List<BrokerStamp> produces = new ArrayList<>();
        List<BrokerStamp> fetches = new ArrayList<>();
        if (brokerLog != null) {
            for (BrokerStamp s : parseBrokerLog(brokerLog)) {
                if (s.written() >= 0) {
                    (s.api().equals("PRODUCE") ? produces : fetches).add(s);
                }
            }
        }
        boolean broker = !produces.isEmpty() && !fetches.isEmpty();
        // with offsets in the log (a fresh one-partition topic, so record i is at offset i): a record's Produce is
        // the one with the greatest base offset <= i, its Fetch the last one that read from an offset <= i
        boolean byOffset = broker && produces.stream().allMatch(x -> x.offset() >= 0)
            && fetches.stream().allMatch(x -> x.offset() >= 0);
        Comparator<BrokerStamp> order = byOffset
            ? Comparator.comparingLong(BrokerStamp::offset).thenComparingLong(BrokerStamp::written)
            : Comparator.comparingLong(BrokerStamp::written);
        produces.sort(order);
        fetches.sort(order);
        long[] prodKey = produces.stream().mapToLong(x -> byOffset ? x.offset() : x.written()).toArray();
        long[] fetchKey = fetches.stream().mapToLong(x -> byOffset ? x.offset() : x.written()).toArray();

        // batches: by offset, the records between two produces' base offsets; else maximal runs of records
        // acknowledged within BATCH_GAP_NS of the previous one
        long[] batchLastSent = new long[n];
        int batches = 0;
        for (int start = 0; start < n; ) {
            int end = start + 1;
            if (byOffset) {
                int p = lastAtOrBefore(prodKey, start);
                end = p + 1 < prodKey.length ? (int) Math.min(n, Math.max(start + 1, prodKey[p + 1])) : n;
            } else {
                while (end < n && ackNs[end] - ackNs[end - 1] <= BATCH_GAP_NS && ackNs[end] >= ackNs[end - 1]) {
                    end++;
                }
            }
            for (int i = start; i < end; i++) {
                batchLastSent[i] = sentNs[end - 1];
            }
            batches++;
            start = end;
        }

        String[] names = broker
            ? new String[] {"e2e", "send() call", "fill (sent -> last of batch sent)", "to-broker (-> produce received)",
                "produce (received -> answered)", "wake (answered -> fetch completed)", "  of which fetch was parked (%)",
                "fetch-out (completed -> written)", "consumer (fetch written -> poll)", "(produce answered -> ack)"}
            : new String[] {"e2e", "send() call", "fill (sent -> last of batch sent)", "closed -> ack",
                "ack -> poll"};
        int stages = names.length;
        long[][] v = new long[stages][n - from];
        int matched = 0;
        int unmatched = 0;
        int outOfOrder = 0;
        int readBeforeStamped = 0;
        for (int i = from; i < n; i++) {
            int k = i - from;
            long e2e = pollNs[i] - sentNs[i];
            v[0][k] = e2e;
            v[1][k] = returnedNs[i] - sentNs[i];
            v[2][k] = batchLastSent[i] - sentNs[i];
            if (!broker) {
                v[3][k] = ackNs[i] - batchLastSent[i];
                v[4][k] = pollNs[i] - ackNs[i];
                continue;
            }
            int p = lastAtOrBefore(prodKey, byOffset ? i : ackNs[i]);
            int f = lastAtOrBefore(fetchKey, byOffset ? i : pollNs[i]);
            if (p < 0 || f < 0) {
                unmatched++;
                for (int s = 3; s < stages; s++) {
                    v[s][k] = Long.MIN_VALUE;
                }
                continue;
            }
            BrokerStamp ps = produces.get(p);
            BrokerStamp fs = fetches.get(f);
            // a causal order broken: the clocks are not one, or the match is wrong (a written stamp is taken just
            // after the socket write returns, so a client may read the bytes first: those count separately)
            if (sentNs[i] > ps.received() || fs.completed() < ps.dequeued()) {
                outOfOrder++;
            } else if (ackNs[i] < ps.written() || pollNs[i] < fs.written()) {
                readBeforeStamped++;
            }
            matched++;
            v[3][k] = ps.received() - batchLastSent[i];
            v[4][k] = ps.responded() - ps.received();
            v[5][k] = fs.completed() - ps.responded();
            v[6][k] = fs.woken() >= 0 ? 100 : 0;
            v[7][k] = fs.written() - fs.completed();
            v[8][k] = pollNs[i] - fs.written();
            v[9][k] = ackNs[i] - ps.responded();
        }
        // the slowest 1 %: records whose e2e is at or above the 99th percentile
        long[] sortedE2e = v[0].clone();
        Arrays.sort(sortedE2e);
        long p99 = sortedE2e[(int) Math.min(sortedE2e.length - 1L, (long) Math.ceil(0.99 * sortedE2e.length) - 1)];
        List<Integer> slow = new ArrayList<>();
        for (int k = 0; k < v[0].length; k++) {
            if (v[0][k] >= p99) {
                slow.add(k);
            }
        }
        long lastWarmupPollNs = Long.MIN_VALUE;
        for (int i = 0; i < from; i++) {
            lastWarmupPollNs = Math.max(lastWarmupPollNs, pollNs[i]);
        }
        out.printf(Locale.ROOT, "stages: warm-up drained before the first measured send: %b%n",
            from == 0 || sentNs[from] >= lastWarmupPollNs);
        out.printf(Locale.ROOT, "stages: %d records (after %d warm-up), %d batches by acknowledgement (%.1f records "
            + "each), slowest 1 %%: %d records with e2e >= %.3f ms%n", n - from, from, batches, n / (double) batches,
            slow.size(), p99 / 1e6);
        if (broker) {
            out.printf(Locale.ROOT, "stages: broker log %s: %d produce and %d fetch requests; %d records matched "
                + "(by %s), %d unmatched, %d with stamps out of order, %d read by the client before the broker "
                + "stamped the write%n", brokerLog, produces.size(), fetches.size(), matched, byOffset ? "offset" : "time",
                unmatched, outOfOrder, readBeforeStamped);
        }
        // one long stall or a steady trickle? the slowest records per second of the measured run
        java.util.TreeMap<Long, Integer> perSecond = new java.util.TreeMap<>();
        for (int k : slow) {
            perSecond.merge((sentNs[k + from] - sentNs[from]) / 1_000_000_000L, 1, Integer::sum);
        }
        out.println("stages: slowest 1 % by second of the measured run (second:records): " + perSecond.entrySet().stream()
            .map(e -> e.getKey() + ":" + e.getValue()).collect(java.util.stream.Collectors.joining(" ")));
        out.println("| stage (ms) | all: mean | p50 | p99 | slowest 1 %: mean | p50 | p90 | max |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (int s = 0; s < stages; s++) {
            long[] all = valid(v[s], null);
            long[] sl = valid(v[s], slow);
            boolean pct = names[s].endsWith("(%)");
            double div = pct ? 1 : 1e6;
            out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", names[s], fmt(mean(all) / div, pct),
                fmt(pctl(all, 50) / div, pct), fmt(pctl(all, 99) / div, pct), fmt(mean(sl) / div, pct),
                fmt(pctl(sl, 50) / div, pct), fmt(pctl(sl, 90) / div, pct), fmt(pctl(sl, 100) / div, pct));
        }
        if (csv != null) {
            try (PrintStream ps = new PrintStream(Files.newOutputStream(csv), false, StandardCharsets.UTF_8)) {
                StringBuilder header = new StringBuilder("record");
                for (String name : names) {
                    header.append(',').append(name.trim().replaceAll("[^A-Za-z0-9]+", "_").replaceAll("_+$", ""));
                }
                ps.println(header.append(",sent_ns"));
                for (int k : slow) {
                    StringBuilder line = new StringBuilder().append(k + from);
                    for (int s = 0; s < stages; s++) {
                        line.append(',').append(v[s][k] == Long.MIN_VALUE ? "" : names[s].endsWith("(%)")
                            ? Long.toString(v[s][k]) : String.format(Locale.ROOT, "%.3f", v[s][k] / 1e6));
                    }
                    ps.println(line.append(',').append(sentNs[k + from]));
                }
            }
        }
    }

    private static String fmt(double x, boolean pct) {
        return Double.isNaN(x) ? "-" : pct ? String.format(Locale.ROOT, "%.0f", x) : String.format(Locale.ROOT, "%.3f", x);
    }

    /** The values of {@code all} at {@code which} (all of them when null), unmatched ones left out, sorted. */
    private static long[] valid(long[] all, List<Integer> which) {
        long[] out = which == null ? all.clone() : which.stream().mapToLong(k -> all[k]).toArray();
        out = Arrays.stream(out).filter(x -> x != Long.MIN_VALUE).toArray();
        Arrays.sort(out);
        return out;
    }

    private static double mean(long[] sorted) {
        return sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN);
    }

    private static double pctl(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int idx = (int) Math.min(sorted.length - 1L, Math.max(0, (long) Math.ceil(p / 100 * sorted.length) - 1));
        return sorted[idx];
    }

    /** Index of the last element {@code <= x} in ascending {@code a}, or -1. */
    static int lastAtOrBefore(long[] a, long x) {
        int lo = 0;
        int hi = a.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] <= x) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
