package io.weir.streams.kstream;

import io.weir.streams.KeyValue;
import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsConfig;
import io.weir.streams.serialization.Serdes;
import io.weir.streams.test.TestInputTopic;
import io.weir.streams.test.TopologyTestDriver;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Windowed counts and stream-stream joins against simple models, over random out-of-order input
 * (jqwik prints the seed of a failing case).
 */
class WindowingPropertyTest {

    record In(String key, long ts) {
    }

    @Provide
    Arbitrary<List<In>> records() {
        Arbitrary<In> one = Combinators.combine(Arbitraries.of("a", "b", "c"), Arbitraries.longs().between(0, 120).map(x -> x * 500)).as(In::new);
        // half-second steps, so records often fall exactly on window and grace boundaries
        return one.list().ofMinSize(1).ofMaxSize(40);
    }

    private static Properties props() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "prop");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        return p;
    }

    @Property(tries = 60)
    void windowedCountsMatchTheModel(@ForAll("records") List<In> input, @ForAll @IntRange(min = 1, max = 20) int sizeSeconds,
                                     @ForAll @IntRange(min = 1, max = 4) int hopsPerWindow,
                                     @ForAll @IntRange(min = 0, max = 15) int graceSeconds) {
        long size = sizeSeconds * 1000L;
        long advance = Math.max(1, size / hopsPerWindow);
        long grace = graceSeconds * 1000L;
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey()
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)).advanceBy(Duration.ofMillis(advance)))
            .count()
            .toStream().map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start(), String.valueOf(n))).to("out");

        List<KeyValue<String, String>> expected = new ArrayList<>();
        Map<String, Long> counts = new HashMap<>();
        long streamTime = -1;
        for (In r : input) {
            streamTime = Math.max(streamTime, r.ts());
            for (long s = 0; s <= r.ts(); s += advance) {
                boolean contains = s + size > r.ts();
                boolean open = s + size > streamTime - grace;
                if (contains && open) {
                    String k = r.key() + "@" + s;
                    long n = counts.merge(k, 1L, Long::sum);
                    expected.add(KeyValue.pair(k, String.valueOf(n)));
                }
            }
        }
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            input.forEach(r -> in.pipeInput(r.key(), "v", r.ts()));
            assertEquals(expected, driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer())
                .readKeyValuesToList());
        }
    }

    /**
     * The model states the definition: the windows of a record set S are the left windows
     * [max(0, x - d), max(0, x - d) + d] of its records and their non-empty right windows [x + 1, x + 1 + d];
     * a window (both ends inclusive) is open until stream time passes its end + grace; a new record r is
     * taken if some window containing it is open, and then every open window of
     * S + r that contains r or did not exist for S is emitted with its record count.
     */
    @Property(tries = 60)
    void slidingWindowCountsMatchTheDefinition(@ForAll("records") List<In> input, @ForAll @IntRange(min = 1, max = 10) int diffSeconds,
                                               @ForAll @IntRange(min = 0, max = 10) int graceSeconds) {
        long d = diffSeconds * 1000L;
        long grace = graceSeconds * 1000L;
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey()
            .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(d), Duration.ofMillis(grace)))
            .count()
            .toStream().map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start() + "-" + w.window().end(), String.valueOf(n)))
            .to("out");

        Map<String, List<Long>> accepted = new HashMap<>();
        List<KeyValue<String, String>> expected = new ArrayList<>();
        long streamTime = -1;
        for (In r : input) {
            streamTime = Math.max(streamTime, r.ts());
            long closeTime = streamTime - grace;
            List<Long> before = accepted.computeIfAbsent(r.key(), k -> new ArrayList<>());
            List<Long> after = new ArrayList<>(before);
            after.add(r.ts());
            java.util.TreeSet<Long> windowsBefore = windowStarts(before, d);
            java.util.TreeSet<Long> windowsAfter = windowStarts(after, d);
            boolean taken = windowsAfter.stream().anyMatch(s -> s <= r.ts() && r.ts() <= s + d && s + d >= closeTime);
            if (!taken) {
                continue;
            }
            before.add(r.ts());
            for (long s : windowsAfter) {
                boolean changed = (s <= r.ts() && r.ts() <= s + d) || !windowsBefore.contains(s);
                if (changed && s + d >= closeTime) {
                    long n = after.stream().filter(x -> s <= x && x <= s + d).count();
                    expected.add(KeyValue.pair(r.key() + "@" + s + "-" + (s + d), String.valueOf(n)));
                }
            }
        }
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            input.forEach(r -> in.pipeInput(r.key(), "v", r.ts()));
            assertEquals(expected, driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer())
                .readKeyValuesToList());
        }
    }

    private static java.util.TreeSet<Long> windowStarts(List<Long> times, long d) {
        java.util.TreeSet<Long> starts = new java.util.TreeSet<>();
        for (long x : times) {
            starts.add(Math.max(0, x - d));
            long right = x + 1;
            if (times.stream().anyMatch(y -> right <= y && y <= right + d)) {
                starts.add(right);
            }
        }
        return starts;
    }

    @Property(tries = 60)
    void sessionCountsMatchTheModel(@ForAll("records") List<In> input, @ForAll @IntRange(min = 1, max = 10) int gapSeconds,
                                    @ForAll @IntRange(min = 0, max = 15) int graceSeconds) {
        long gap = gapSeconds * 1000L;
        long grace = graceSeconds * 1000L;
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("in").groupByKey()
            .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(gap), Duration.ofMillis(grace)))
            .count()
            .toStream().map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start() + "-" + w.window().end(), n == null ? null : String.valueOf(n)))
            .to("out");

        // the model: each key's sessions; the store keeps sessions ending within gap + grace of the largest end written
        record Session(long start, long end, long count) {
        }
        Map<String, List<Session>> sessions = new HashMap<>();
        List<KeyValue<String, String>> expected = new ArrayList<>();
        long streamTime = -1;
        long maxEnd = -1;
        for (In r : input) {
            streamTime = Math.max(streamTime, r.ts());
            long retainedFrom = maxEnd - (gap + grace) + 1;
            List<Session> own = sessions.computeIfAbsent(r.key(), k -> new ArrayList<>());
            List<Session> merged = own.stream()
                .filter(x -> x.end() >= Math.max(r.ts() - gap, retainedFrom) && x.start() <= r.ts() + gap)
                .sorted(Comparator.comparingLong(Session::end).thenComparingLong(Session::start)).toList();
            long start = r.ts();
            long end = r.ts();
            long count = 1;
            for (Session x : merged) {
                start = Math.min(start, x.start());
                end = Math.max(end, x.end());
                count += x.count();
            }
            if (end < streamTime - grace) {
                continue;
            }
            for (Session x : merged) {
                own.remove(x);
                expected.add(KeyValue.pair(r.key() + "@" + x.start() + "-" + x.end(), null));
            }
            own.add(new Session(start, end, count));
            maxEnd = Math.max(maxEnd, end);
            expected.add(KeyValue.pair(r.key() + "@" + start + "-" + end, String.valueOf(count)));
        }
        // the model lists every removal and addition: the record cache (which folds a session removed and re-added
        // under the same window while one record is processed into one update) is off for this comparison
        Properties uncached = props();
        uncached.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), uncached, Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            input.forEach(r -> in.pipeInput(r.key(), "v", r.ts()));
            assertEquals(expected, driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer())
                .readKeyValuesToList());
        }
        // with the cache on, each session's last update is the model's
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            input.forEach(r -> in.pipeInput(r.key(), "v", r.ts()));
            Map<String, String> last = new HashMap<>();
            driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer())
                .readKeyValuesToList().forEach(kv -> last.put(kv.key, kv.value));
            Map<String, String> modelLast = new HashMap<>();
            expected.forEach(kv -> modelLast.put(kv.key, kv.value));
            modelLast.entrySet().removeIf(e -> e.getValue() == null && !last.containsKey(e.getKey()));
            assertEquals(modelLast, last);
        }
    }

    @Property(tries = 60)
    void innerStreamStreamJoinsMatchTheModel(@ForAll("records") List<In> left, @ForAll("records") List<In> right,
                                             @ForAll @IntRange(min = 0, max = 10) int beforeSeconds,
                                             @ForAll @IntRange(min = 0, max = 10) int afterSeconds,
                                             @ForAll @IntRange(min = 0, max = 10) int graceSeconds) {
        long before = beforeSeconds * 1000L;
        long after = afterSeconds * 1000L;
        long grace = graceSeconds * 1000L;
        JoinWindows windows = JoinWindows.ofTimeDifferenceAndGrace(Duration.ZERO, Duration.ofMillis(grace))
            .before(Duration.ofMillis(before)).after(Duration.ofMillis(after));
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("left").join(builder.<String, String>stream("right"), (l, r) -> l + "+" + r, windows).to("out");

        // interleave: left records at even positions, right at odd, in input order
        record Arrival(boolean isLeft, In in, int seq) {
        }
        List<Arrival> arrivals = new ArrayList<>();
        for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
            if (i < left.size()) {
                arrivals.add(new Arrival(true, left.get(i), arrivals.size()));
            }
            if (i < right.size()) {
                arrivals.add(new Arrival(false, right.get(i), arrivals.size()));
            }
        }
        List<String> expected = new ArrayList<>();
        List<Arrival> accepted = new ArrayList<>();
        long streamTime = -1;
        for (Arrival a : arrivals) {
            streamTime = Math.max(streamTime, a.in().ts());
            if (a.in().ts() + grace < streamTime) {
                continue;
            }
            long t = a.in().ts();
            List<Arrival> partners = new ArrayList<>();
            for (Arrival p : accepted) {
                if (p.isLeft() == a.isLeft() || !p.in().key().equals(a.in().key())) {
                    continue;
                }
                long lt = a.isLeft() ? t : p.in().ts();
                long rt = a.isLeft() ? p.in().ts() : t;
                if (rt >= lt - before && rt <= lt + after) {
                    partners.add(p);
                }
            }
            partners.sort(Comparator.comparingLong((Arrival p) -> p.in().ts()).thenComparingInt(Arrival::seq));
            for (Arrival p : partners) {
                String l = a.isLeft() ? "L" + a.seq() : "L" + p.seq();
                String r = a.isLeft() ? "R" + p.seq() : "R" + a.seq();
                expected.add(a.in().key() + ":" + l + "+" + r + "@" + Math.max(t, p.in().ts()));
            }
            accepted.add(a);
        }
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props(), Instant.ofEpochMilli(0))) {
            TestInputTopic<String, String> l = driver.createInputTopic("left", Serdes.String().serializer(), Serdes.String().serializer());
            TestInputTopic<String, String> r = driver.createInputTopic("right", Serdes.String().serializer(), Serdes.String().serializer());
            for (Arrival a : arrivals) {
                (a.isLeft() ? l : r).pipeInput(a.in().key(), (a.isLeft() ? "L" : "R") + a.seq(), a.in().ts());
            }
            List<String> actual = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer())
                .readRecordsToList().stream().map(x -> x.key() + ":" + x.value() + "@" + x.timestamp()).toList();
            assertEquals(expected, actual);
        }
    }
}
