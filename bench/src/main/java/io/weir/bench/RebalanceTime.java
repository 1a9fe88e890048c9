package io.weir.bench;

import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerConfig;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How long a group of Weir consumers takes to rebalance when a member joins: {@code --members}
 * members, each polling on its own thread, form a stable group; then one more subscribes, and the
 * time runs from its {@code subscribe()} until every member has applied an assignment of the same
 * new generation that covers every partition once. Repeated {@code --rounds} times (the newcomer
 * leaves between rounds and the group settles again).
 *
 * <p>Output: one line per round, then {@code rebalance: N rounds, min .. ms, median .. ms, max .. ms}.
 */
@Command(name = "weir-rebalance-time", sortOptions = false, mixinStandardHelpOptions = true,
    description = "Measures the time a group of Weir consumers takes to rebalance when a member joins.")
public final class RebalanceTime implements Callable<Integer> {
    @Option(names = "--bootstrap-server", required = true)
    String bootstrapServer;

    @Option(names = "--topic", required = true)
    String topic;

    @Option(names = "--group", defaultValue = "rebalance-time")
    String group;

    @Option(names = "--members", defaultValue = "3", description = "Members before the join (default 3).")
    int members;

    @Option(names = "--rounds", defaultValue = "5")
    int rounds;

    @Option(names = "--consumer-props", arity = "1..*", paramLabel = "PROP=VALUE")
    List<String> consumerProps = new ArrayList<>();

    private PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    public static int run(PrintStream out, PrintStream err, String... args) {
        RebalanceTime tool = new RebalanceTime();
        tool.out = out;
        return Tools.execute(tool, out, err, args);
    }

    /** One member polling on its own thread; publishes what it was assigned after every poll. */
    private final class Member implements Runnable {
        final Thread thread;
        final AtomicBoolean stop = new AtomicBoolean();
        volatile int generation = -1;
        volatile Set<TopicPartition> assignment = Set.of();

        Member(String name) {
            thread = new Thread(this, name);
        }

        @Override
        public void run() {
            Map<String, Object> p = new HashMap<>();
            ClientProps.load(null, consumerProps).forEach((k, v) -> p.put(String.valueOf(k), v));
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(p, new Deserializers.ByteArrayDeserializer(),
                new Deserializers.ByteArrayDeserializer())) {
                c.subscribe(List.of(topic));
                while (!stop.get()) {
                    c.poll(Duration.ofMillis(100));
                    assignment = Set.copyOf(c.assignment());
                    generation = c.groupGeneration();
                }
            }
        }
    }

    private static boolean settled(List<Member> group, int partitions, int previousGeneration) {
        int gen = group.get(0).generation;
        if (gen <= previousGeneration) {
            return false;
        }
        Set<TopicPartition> union = new HashSet<>();
        int sum = 0;
        for (Member m : group) {
            if (m.generation != gen) {
                return false;
            }
            union.addAll(m.assignment);
            sum += m.assignment.size();
        }
        return union.size() == partitions && sum == partitions;
    }

    private static int awaitSettled(List<Member> group, int partitions, int previousGeneration, long timeoutMs)
        throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!settled(group, partitions, previousGeneration)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the group did not settle within " + timeoutMs + " ms");
            }
            Thread.sleep(1);
        }
        return group.get(0).generation;
    }

    @Override
    public Integer call() throws Exception {
        int partitions;
        Map<String, Object> probe = new HashMap<>();
        probe.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
        try (WeirConsumer<byte[], byte[]> c = new WeirConsumer<>(probe, new Deserializers.ByteArrayDeserializer(),
            new Deserializers.ByteArrayDeserializer())) {
            partitions = c.partitionsFor(topic, Duration.ofSeconds(30)).size();
        }
        List<Member> group = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            Member m = new Member("member-" + i);
            group.add(m);
            m.thread.start();
        }
        int generation = awaitSettled(group, partitions, -1, 120_000);
        List<Double> times = new ArrayList<>();
        try {
            for (int round = 1; round <= rounds; round++) {
                Member joiner = new Member("joiner-" + round);
                List<Member> bigger = new ArrayList<>(group);
                bigger.add(joiner);
                long startNs = System.nanoTime();
                joiner.thread.start(); // subscribe() is its first call
                generation = awaitSettled(bigger, partitions, generation, 120_000);
                double ms = (System.nanoTime() - startNs) / 1e6;
                times.add(ms);
                out.printf(Locale.ROOT, "round %d: %d -> %d members, generation %d, %.1f ms%n", round, members,
                    members + 1, generation, ms);
                joiner.stop.set(true);
                joiner.thread.join();
                generation = awaitSettled(group, partitions, generation, 120_000);
            }
        } finally {
            for (Member m : group) {
                m.stop.set(true);
            }
            for (Member m : group) {
                m.thread.join();
            }
        }
        times.sort(null);
        out.printf(Locale.ROOT, "rebalance: %d rounds, min %.1f ms, median %.1f ms, max %.1f ms%n", times.size(),
            times.get(0), times.get(times.size() / 2), times.get(times.size() - 1));
        return 0;
    }
}
