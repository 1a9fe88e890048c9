package io.weir.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The producer side of a failover measurement: sends records at a steady rate, round-robin over
 * every partition of the topic (explicit partitions, so each partition gets its share whatever the
 * partitioner would do while a leader is gone), and writes one line per acknowledgement to
 * {@code --events-file}: {@code partition sendMicros ackMicros ok} or {@code ... error ExceptionClass},
 * times in µs since the epoch (wall clock, so another process on the same machine can relate them
 * to the moment it killed a broker). Prints {@code READY} once every partition has acknowledged a
 * record, then keeps sending for {@code --duration-ms}. Whoever runs it kills a broker in between.
 */
@Command(name = "weir-failover-probe", sortOptions = false, mixinStandardHelpOptions = true,
    description = "Produces at a steady rate to every partition and logs each acknowledgement's time.")
public final class FailoverProbe implements java.util.concurrent.Callable<Integer> {
    @Mixin
    SteadyProducerOptions load;

    @Option(names = "--partitions", required = true, description = "Partitions of the topic (records go round-robin).")
    int partitions;

    @Option(names = "--duration-ms", required = true, description = "How long to keep sending after READY.")
    long durationMs;

    @Option(names = "--ready-timeout-ms", defaultValue = "120000", description = "Most time to wait for READY.")
    long readyTimeoutMs;

    @Option(names = "--events-file", required = true)
    Path eventsFile;

    private PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the tool; returns the exit code (0 ok, 2 bad usage, 1 failure). */
    public static int run(PrintStream out, PrintStream err, String... args) {
        FailoverProbe tool = new FailoverProbe();
        tool.out = out;
        return Tools.execute(tool, out, err, args);
    }

    @Override
    public Integer call() throws Exception {
        if (partitions < 1 || load.throughput <= 0 || load.recordSize < 0) {
            throw new IllegalArgumentException("--partitions and --throughput must be positive, --record-size at least 0");
        }
        byte[] value = new byte[load.recordSize];
        java.util.Arrays.fill(value, (byte) 'F');
        long baseEpochMicros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
        long baseNs = System.nanoTime();
        AtomicLongArray firstAck = new AtomicLongArray(partitions);
        AtomicInteger readyPartitions = new AtomicInteger();
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long sent = 0;
        try (BufferedWriter events = Files.newBufferedWriter(eventsFile);
             ProducerPerformance.PerfProducer sender = load.openProducer(load.producerProperties())) {
            Throttler throttler = load.throttler(baseNs);
            long readyNs = -1;
            while (true) {
                long now = System.nanoTime();
                if (readyNs < 0 && readyPartitions.get() == partitions) {
                    readyNs = now;
                    out.println("READY " + (baseEpochMicros + (now - baseNs) / 1000));
                    out.flush();
                }
                if (readyNs < 0 && now - baseNs > readyTimeoutMs * 1_000_000L) {
                    throw new IllegalStateException("not every partition acknowledged a record within " + readyTimeoutMs + " ms");
                }
                if (readyNs >= 0 && now - readyNs >= durationMs * 1_000_000L) {
                    break;
                }
                int partition = (int) (sent % partitions);
                long sendMicros = baseEpochMicros + (now - baseNs) / 1000;
                sender.send(load.topic, partition, value, e -> {
                    long ackMicros = baseEpochMicros + (System.nanoTime() - baseNs) / 1000;
                    if (e == null) {
                        acked.incrementAndGet();
                        if (firstAck.compareAndSet(partition, 0, ackMicros)) {
                            readyPartitions.incrementAndGet();
                        }
                    } else {
                        failed.incrementAndGet();
                    }
                    String line = partition + " " + sendMicros + " " + ackMicros + (e == null ? " ok" : " error "
                        + e.getClass().getSimpleName());
                    synchronized (events) {
                        try {
                            events.write(line);
                            events.newLine();
                        } catch (IOException io) {
                            throw new java.io.UncheckedIOException(io);
                        }
                    }
                });
                sent++;
                throttler.awaitTurn(sent);
            }
            sender.flush();
            sender.close();
            synchronized (events) {
                events.flush();
            }
        }
        out.printf("%d records sent, %d acknowledged, %d failed.%n", sent, acked.get(), failed.get());
        return 0;
    }
}
