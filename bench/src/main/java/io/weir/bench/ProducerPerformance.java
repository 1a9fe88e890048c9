package io.weir.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * A producer load generator with Apache Kafka's {@code kafka-producer-perf-test} flags and output: a
 * progress line every 5 s and a final summary line in Kafka's exact format.
 *
 * <p>Like Kafka's tool, {@code --record-size} sends one random payload of uppercase letters, made once,
 * as every record's value (so compression sees a very repetitive stream); {@code --payload-file} picks
 * a random line of the file per record.
 */
@Command(name = "weir-producer-perf-test", sortOptions = false, mixinStandardHelpOptions = true,
    description = "Produces records as fast as allowed and reports throughput and latency (Kafka's format).")
public final class ProducerPerformance implements Callable<Integer> {
    @Option(names = "--topic", required = true, description = "Topic to produce to.")
    String topic;

    @Option(names = "--num-records", required = true, description = "Number of records to produce.")
    long numRecords;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    Payload payload;

    static final class Payload {
        @Option(names = "--record-size", description = "Record value size in bytes.")
        Integer recordSize;

        @Option(names = "--payload-file", description = "File of payloads, one per delimiter-separated entry.")
        Path payloadFile;
    }

    @Option(names = "--payload-delimiter", defaultValue = "\\n", description = "Delimiter in --payload-file (default \\n).")
    String payloadDelimiter;

    @Option(names = "--throughput", required = true, description = "Maximum records/sec; -1 = unthrottled.")
    double throughput;

    @Option(names = "--producer-props", arity = "1..*", paramLabel = "PROP=VALUE", description = "Producer properties.")
    List<String> producerProps = new ArrayList<>();

    @Option(names = "--producer.config", paramLabel = "FILE", description = "Producer properties file.")
    Path producerConfig;

    @Option(names = "--bootstrap-server", description = "Overrides bootstrap.servers from the properties.")
    String bootstrapServer;

    @Option(names = "--transactional-id", description = "Produce in transactions with this id.")
    String transactionalId;

    @Option(names = "--transaction-duration-ms", description = "Commit a transaction every this many ms (default 3000 when transactional).")
    Long transactionDurationMs;

    @Option(names = "--client", defaultValue = "kafka", converter = ClientKindConverter.class,
        description = "Client library: kafka (Apache kafka-clients) or weir. Default: kafka.")
    ClientKind client;

    @Option(names = "--reporting-interval-ms", defaultValue = "5000", hidden = true)
    long reportingIntervalMs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the tool; returns the exit code (0 ok, 2 bad usage, 1 failure). */
    public static int run(PrintStream out, PrintStream err, String... args) {
        ProducerPerformance tool = new ProducerPerformance();
        tool.out = out;
        return Tools.execute(tool, out, err, args);
    }

    @Override
    public Integer call() throws Exception {
        if (producerProps.isEmpty() && producerConfig == null && bootstrapServer == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "one of --producer-props, --producer.config or --bootstrap-server is required");
        }
        client.requireAvailable("producer");
        Properties props = ClientProps.load(producerConfig, producerProps);
        if (bootstrapServer != null) {
            props.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
        }
        boolean transactional = transactionalId != null || transactionDurationMs != null
            || props.getProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG) != null;
        long txnDurationMs = transactionDurationMs == null ? 3000 : transactionDurationMs;
        if (transactional) {
            props.setProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                transactionalId != null ? transactionalId : props.getProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                    "performance-producer-default-transactional-id"));
        }
        List<byte[]> payloads = payloads();
        SplittableRandom random = new SplittableRandom();

        if (transactionDurationMs != null && transactionDurationMs <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "--transaction-duration-ms should be greater than zero.");
        }
        long commits = 0;
        try (PerfProducer producer = open(client, props)) {
            if (transactional) {
                producer.initTransactions();
            }
            long startNs = System.nanoTime();
            ProducerStats stats = new ProducerStats(out, startNs, reportingIntervalMs);
            Throttler throttler = new Throttler(throughput, startNs);
            long txnStartNs = startNs;
            if (transactional) {
                producer.beginTransaction();
            }
            for (long i = 0; i < numRecords; i++) {
                byte[] value = payloads.size() == 1 ? payloads.get(0) : payloads.get(random.nextInt(payloads.size()));
                if (transactional && System.nanoTime() - txnStartNs >= txnDurationMs * 1_000_000L) {
                    producer.commitTransaction();
                    commits++;
                    producer.beginTransaction();
                    txnStartNs = System.nanoTime();
                }
                producer.send(topic, value, new RecordDone(stats, System.nanoTime(), value.length));
                throttler.awaitTurn(i + 1);
            }
            if (transactional) {
                producer.commitTransaction();
                commits++;
            }
            producer.flush();
            long endNs = System.nanoTime();
            producer.close();
            stats.printTotal(endNs);
            if (transactional) {
                // not in Kafka's output: the transactional cost is easier to compare as commits per second
                out.printf("%d transactions committed, %.1f transactions/sec.%n", commits,
                    commits * 1e9 / Math.max(1, endNs - startNs));
            }
            return stats.count() == numRecords ? 0 : 1;
        }
    }

    /**
     * One record's callback, as Kafka's tool's {@code PerfCallback}: the latency from just before
     * {@code send()} to the callback goes into the histogram. One plain object per record that either
     * client takes as its own callback type (no lambda, nor a wrapper per record).
     */
    static final class RecordDone implements java.util.function.Consumer<Exception>, io.weir.producer.Callback,
        org.apache.kafka.clients.producer.Callback {
        private final ProducerStats stats;
        private final long sendNs;
        private final int size;

        RecordDone(ProducerStats stats, long sendNs, int size) {
            this.stats = stats;
            this.sendNs = sendNs;
            this.size = size;
        }

        @Override
        public void accept(Exception exception) {
            long now = System.nanoTime();
            if (exception != null) {
                exception.printStackTrace();
                return;
            }
            stats.record((now - sendNs) / 1000, size, now);
        }

        @Override
        public void onCompletion(io.weir.producer.RecordMetadata metadata, Exception exception) {
            accept(exception);
        }

        @Override
        public void onCompletion(org.apache.kafka.clients.producer.RecordMetadata metadata, Exception exception) {
            accept(exception);
        }
    }

    /** The producer of {@code kind} (Weir's or Kafka's) with {@code props}. */
    static PerfProducer open(ClientKind kind, Properties props) {
        return kind == ClientKind.WEIR ? new WeirPerfProducer(props) : new KafkaPerfProducer(props);
    }

    /** The producer calls the tool makes, over either client library. */
    interface PerfProducer extends AutoCloseable {
        void send(String topic, byte[] value, java.util.function.Consumer<Exception> done);

        /** Sends to the given partition (the partitioner is not asked). */
        void send(String topic, int partition, byte[] value, java.util.function.Consumer<Exception> done);

        void flush();

        default void initTransactions() {
            throw new UnsupportedOperationException("transactions");
        }

        default void beginTransaction() {
            throw new UnsupportedOperationException("transactions");
        }

        default void commitTransaction() {
            throw new UnsupportedOperationException("transactions");
        }

        @Override
        void close();
    }

    static final class KafkaPerfProducer implements PerfProducer {
        private final KafkaProducer<byte[], byte[]> producer;

        KafkaPerfProducer(Properties props) {
            producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public void send(String topic, byte[] value, java.util.function.Consumer<Exception> done) {
            producer.send(new ProducerRecord<>(topic, value),
                done instanceof RecordDone r ? r : (md, e) -> done.accept(e));
        }

        @Override
        public void send(String topic, int partition, byte[] value, java.util.function.Consumer<Exception> done) {
            producer.send(new ProducerRecord<>(topic, partition, null, value), (md, e) -> done.accept(e));
        }

        @Override
        public void flush() {
            producer.flush();
        }

        @Override
        public void initTransactions() {
            producer.initTransactions();
        }

        @Override
        public void beginTransaction() {
            producer.beginTransaction();
        }

        @Override
        public void commitTransaction() {
            producer.commitTransaction();
        }

        @Override
        public void close() {
            producer.close();
        }
    }

    static final class WeirPerfProducer implements PerfProducer {
        private final io.weir.producer.WeirProducer<byte[], byte[]> producer;

        WeirPerfProducer(Properties props) {
            producer = new io.weir.producer.WeirProducer<>(props, new io.weir.producer.Serializers.ByteArraySerializer(),
                new io.weir.producer.Serializers.ByteArraySerializer());
        }

        @Override
        public void send(String topic, byte[] value, java.util.function.Consumer<Exception> done) {
            producer.send(new io.weir.producer.ProducerRecord<>(topic, value),
                done instanceof RecordDone r ? r : (md, e) -> done.accept(e));
        }

        @Override
        public void send(String topic, int partition, byte[] value, java.util.function.Consumer<Exception> done) {
            producer.send(new io.weir.producer.ProducerRecord<>(topic, partition, null, value), (md, e) -> done.accept(e));
        }

        @Override
        public void flush() {
            producer.flush();
        }

        @Override
        public void initTransactions() {
            producer.initTransactions();
        }

        @Override
        public void beginTransaction() {
            producer.beginTransaction();
        }

        @Override
        public void commitTransaction() {
            producer.commitTransaction();
        }

        @Override
        public void close() {
            producer.close();
        }
    }

    private List<byte[]> payloads() throws IOException {
        List<byte[]> result = new ArrayList<>();
        if (payload.recordSize != null) {
            if (payload.recordSize < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--record-size must be >= 0");
            }
            byte[] value = new byte[payload.recordSize];
            SplittableRandom random = new SplittableRandom();
            for (int i = 0; i < value.length; i++) {
                value[i] = (byte) ('A' + random.nextInt(26));
            }
            result.add(value);
            return result;
        }
        String delimiter = payloadDelimiter.replace("\\n", "\n").replace("\\t", "\t");
        String text = Files.readString(payload.payloadFile, StandardCharsets.UTF_8);
        for (String entry : text.split(java.util.regex.Pattern.quote(delimiter))) {
            if (!entry.isEmpty()) {
                result.add(entry.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException("no payloads in " + payload.payloadFile);
        }
        return result;
    }
}
