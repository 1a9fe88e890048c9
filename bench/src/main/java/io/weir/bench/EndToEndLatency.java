package io.weir.bench;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * End-to-end latency: one producer sends at a fixed rate, one consumer in the same JVM (so both read
 * the same {@code System.nanoTime} clock) reads the topic from its end, and the time from
 * {@code send()} to the record coming out of {@code poll()} goes into an HdrHistogram. Each value
 * starts with the send time (8 bytes, big-endian nanoTime), so {@code --record-size} is at least 8. The first {@code --warmup-records} are
 * not counted, and the measured records start from an empty pipeline: after the warm-up the sender waits until the
 * consumer has every warm-up record, then starts the fixed-rate schedule afresh (without that, a start-up backlog
 * drained into the measured records; non-transactional runs). {@code --client} picks the library of both ends: kafka-clients or Weir's producer and consumer.
 *
 * <p>Output: {@code E2E latency: N records at R records/sec, avg A ms, p50 .. ms, p90, p99, p99.9, max M ms.}
 */
@Command(name = "weir-e2e-latency", sortOptions = false, mixinStandardHelpOptions = true,
    description = "Produces at a fixed rate, consumes, and reports end-to-end latency percentiles.")
public final class EndToEndLatency implements Callable<Integer> {
    @Mixin
    SteadyProducerOptions load;

    @Option(names = "--num-records", required = true, description = "Records to send, warm-up included.")
    long numRecords;

    @Option(names = "--warmup-records", defaultValue = "1000", description = "Records at the start not counted.")
    long warmupRecords;

    @Option(names = "--consumer-props", arity = "1..*", paramLabel = "PROP=VALUE")
    List<String> consumerProps = new ArrayList<>();

    @Option(names = "--timeout", defaultValue = "30000", description = "Give up after this many ms without a record.")
    long timeoutMs;

    @Option(names = "--histogram-file", description = "Also write the whole latency distribution there "
        + "(HdrHistogram's percentile format, values in ms), for a percentile-curve chart.")
    java.nio.file.Path histogramFile;

    @Option(names = "--trace-slow-ms", defaultValue = "0", description = "Debugging: print to stderr every poll() "
        + "that returned a record older than this (nanoTime stamps, comparable with the broker's request stages).")
    long traceSlowMs;

    @Option(names = "--stages-file", description = "Debugging: stamp every record (sent, send() returned, "
        + "acknowledged, handed out by poll()), print where the slowest 1 %% spent their time and write them to this "
        + "CSV (each value then also carries its sequence number, so --record-size is at least 16).")
    java.nio.file.Path stagesFile;

    @Option(names = "--broker-stages-log", description = "With --stages-file: the log of a Weir broker run with "
        + "-Dweir.debug.request.stages.sample=1, read at the end to match each record to its Produce and Fetch.")
    java.nio.file.Path brokerStagesLog;

    @Option(names = "--transaction-duration-ms", description = "Produce in transactions, committing one every this "
        + "many ms (transactional.id from --producer-props, else e2e-latency-TOPIC); with consumer isolation.level="
        + "read_committed the latency is the time until a record is visible to such a consumer.")
    Long transactionDurationMs;

    private PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    public static int run(PrintStream out, PrintStream err, String... args) {
        EndToEndLatency tool = new EndToEndLatency();
        tool.out = out;
        return Tools.execute(tool, out, err, args);
    }

    @Override
    public Integer call() throws Exception {
        load.client.requireAvailable("consumer");
        if (load.recordSize < Long.BYTES) {
            throw new IllegalArgumentException("--record-size must be at least 8 (the send timestamp)");
        }
        if (stagesFile != null && load.recordSize < 2 * Long.BYTES) {
            throw new IllegalArgumentException("--record-size must be at least 16 with --stages-file");
        }
        E2eStages stages = stagesFile == null ? null : new E2eStages(numRecords);
        String topic = load.topic;
        Properties pp = load.producerProperties();
        if (transactionDurationMs != null) {
            if (transactionDurationMs <= 0) {
                throw new IllegalArgumentException("--transaction-duration-ms must be positive");
            }
            pp.putIfAbsent(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "e2e-latency-" + topic);
        }
        boolean transactional = transactionDurationMs != null;
        Properties cp = ClientProps.withBootstrap(consumerProps, load.bootstrapServer);
        cp.remove(ConsumerConfig.GROUP_ID_CONFIG);
        cp.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");

        Histogram histogram = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong receivedCount = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong measuredStartNs = new java.util.concurrent.atomic.AtomicLong();
        try (ProducerPerformance.PerfProducer sender = load.openProducer(pp);
             ConsumerPerformance.PerfConsumer consumer = ConsumerPerformance.open(load.client, cp)) {
            consumer.assign(topic, consumer.partitionsFor(topic, timeoutMs));
            consumer.seekToEndNow(); // resolve the end offsets before the first send
            if (transactional) {
                sender.initTransactions();
            }
            Thread senderThread = new Thread(() -> {
                try {
                    Throttler throttler = load.throttler(System.nanoTime());
                    long scheduleBase = 0; // records sent before the throttler's current schedule started
                    // one value buffer: both producers copy the value into their batch inside send(), and the
                    // measuring tool should not add 1 KiB of garbage per record to the GC pauses it measures
                    byte[] value = new byte[load.recordSize];
                    long txnStartNs = System.nanoTime();
                    if (transactional) {
                        sender.beginTransaction();
                    }
                    for (long i = 0; i < numRecords; i++) {
                        if (transactional && System.nanoTime() - txnStartNs >= transactionDurationMs * 1_000_000L) {
                            sender.commitTransaction();
                            sender.beginTransaction();
                            txnStartNs = System.nanoTime();
                        }
                        long sentNs = System.nanoTime();
                        ByteBuffer.wrap(value).putLong(0, sentNs);
                        long seq = i;
                        if (stages != null) {
                            ByteBuffer.wrap(value).putLong(Long.BYTES, seq);
                        }
                        sender.send(topic, value, e -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                            long ackNs = System.nanoTime();
                            if (stages != null) {
                                stages.acked(seq, ackNs);
                            }
                            if (traceSlowMs > 0 && ackNs - sentNs > traceSlowMs * 1_000_000) {
                                System.err.printf(Locale.ROOT, "slow ack: sent=%d acked=%d age=%.1f ms%n", sentNs, ackNs,
                                    (ackNs - sentNs) / 1e6);
                            }
                        });
                        long returnedNs = System.nanoTime();
                        if (stages != null) {
                            stages.sent(seq, sentNs, returnedNs);
                        }
                        if (traceSlowMs > 0 && returnedNs - sentNs > traceSlowMs * 1_000_000) {
                            System.err.printf(Locale.ROOT, "slow send(): sent=%d returned=%d took=%.1f ms%n", sentNs,
                                returnedNs, (returnedNs - sentNs) / 1e6);
                        }
                        boolean rehearsal = i + 1 == warmupRecords / 10 && warmupRecords >= 10;
                        if ((rehearsal || i + 1 == warmupRecords) && !transactional && i + 1 < numRecords) {
                            // At the end of the warm-up: start measuring from an empty pipeline (a backlog left by
                            // start-up, i.e. JIT, connects, the throttler catching up on the first blocked send(), would
                            // otherwise drain into the measured records and be reported as their latency).
                            // At a tenth of it, the same steps once as a rehearsal: their first run costs the JVM
                            // once (the flush is its first wait on a CountDownLatch in either client, which loads
                            // AbstractQueuedSynchronizer$SharedNode and deoptimises hot compiled code that inlines
                            // AQS: socket reads, the accumulator, the consumer's poll; the pause takes branches the
                            // steady stream never did), and that must not land on the first measured records.
                            sender.flush();
                            long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
                            while (receivedCount.get() < i + 1 && System.nanoTime() < deadlineNs
                                && failure.get() == null) {
                                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                            }
                            throttler = load.throttler(System.nanoTime());
                            scheduleBase = i + 1;
                            if (!rehearsal) {
                                measuredStartNs.set(System.nanoTime());
                            }
                            continue;
                        }
                        throttler.awaitTurn(i + 1 - scheduleBase);
                    }
                    if (transactional) {
                        sender.commitTransaction();
                    }
                    sender.flush();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "e2e-sender");
            long startNs = System.nanoTime();
            senderThread.start();
            long[] received = {0};
            long lastNs = System.nanoTime();
            while (received[0] < numRecords && failure.get() == null) {
                long[] nowNs = {0};
                long[] oldestNs = {Long.MAX_VALUE};
                long pollStartNs = System.nanoTime();
                int n = consumer.poll(100, (key, value) -> {
                    if (nowNs[0] == 0) {
                        nowNs[0] = System.nanoTime(); // the time the batch came out of poll()
                    }
                    long sentNs = ByteBuffer.wrap(value).getLong(0);
                    if (stages != null) {
                        stages.polled(ByteBuffer.wrap(value).getLong(Long.BYTES), nowNs[0]);
                    }
                    oldestNs[0] = Math.min(oldestNs[0], sentNs);
                    if (received[0]++ >= warmupRecords) {
                        histogram.recordValue(Math.min(histogram.getHighestTrackableValue(), Math.max(0, (nowNs[0] - sentNs) / 1000)));
                    }
                });
                if (n > 0 && traceSlowMs > 0 && nowNs[0] - oldestNs[0] > traceSlowMs * 1_000_000) {
                    System.err.printf(Locale.ROOT, "slow poll: pollStart=%d returned=%d records=%d oldestSent=%d age=%.1f ms "
                        + "sinceLastPoll=%.1f ms%n", pollStartNs, nowNs[0], n, oldestNs[0], (nowNs[0] - oldestNs[0]) / 1e6,
                        (pollStartNs - lastNs) / 1e6);
                }
                if (n > 0) {
                    receivedCount.set(received[0]);
                    lastNs = nowNs[0];
                } else if (System.nanoTime() - lastNs > TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
                    break;
                }
            }
            long endNs = System.nanoTime();
            long elapsedNs = endNs - startNs;
            long rateRecords = received[0];
            if (measuredStartNs.get() != 0) { // the rate of the measured records, without the wait after the warm-up
                elapsedNs = endNs - measuredStartNs.get();
                rateRecords = Math.max(0, received[0] - warmupRecords);
            }
            senderThread.join();
            if (failure.get() != null) {
                throw new IllegalStateException("send failed: " + failure.get(), failure.get());
            }
            out.printf(Locale.ROOT, "E2E latency: %d records at %.1f records/sec, avg %.3f ms, p50 %.3f ms, p90 %.3f ms, "
                    + "p99 %.3f ms, p99.9 %.3f ms, max %.3f ms.%n",
                histogram.getTotalCount(), rateRecords / (elapsedNs / 1e9), histogram.getMean() / 1000.0,
                ms(histogram, 50), ms(histogram, 90), ms(histogram, 99), ms(histogram, 99.9),
                histogram.getMaxValue() / 1000.0);
            if (stages != null) {
                stages.report(out, warmupRecords, received[0], brokerStagesLog, stagesFile);
            }
            if (histogramFile != null) {
                try (PrintStream ps = new PrintStream(java.nio.file.Files.newOutputStream(histogramFile), false,
                    java.nio.charset.StandardCharsets.UTF_8)) {
                    histogram.outputPercentileDistribution(ps, 1000.0);
                }
            }
            return received[0] >= numRecords ? 0 : 1;
        }
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }
}
