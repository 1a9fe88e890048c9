package io.weir.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.text.SimpleDateFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * A consumer load tool with Apache Kafka's {@code kafka-consumer-perf-test} flags and output columns,
 * driving Apache kafka-clients' consumer or Weir's ({@code --client}) through one small adapter,
 * {@link PerfConsumer}, so both run the same loop with the same settings.
 *
 * <p>Without {@code --group} it reads every partition of the topic from the beginning with
 * {@code assign()} (no group, {@code rebalance.time.ms} is 0). With {@code --group} it subscribes
 * as a member of that group, starting from the committed offsets or else the earliest, and
 * reports the time from subscribing to the first assignment as {@code rebalance.time.ms}, as
 * Kafka's tool does.
 */
@Command(name = "weir-consumer-perf-test", sortOptions = false, mixinStandardHelpOptions = true,
    description = "Consumes a topic from the beginning and reports throughput (Kafka's columns).")
public final class ConsumerPerformance implements Callable<Integer> {
    static final String HEADER = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
        + "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";
    private static final double MB = 1024.0 * 1024.0;

    @Option(names = "--bootstrap-server", description = "Broker to connect to (or bootstrap.servers in --consumer.config).")
    String bootstrapServer;

    @Option(names = "--topic", required = true, description = "Topic to consume.")
    String topic;

    @Option(names = "--messages", required = true, description = "Number of records to consume.")
    long messages;

    @Option(names = "--group", description = "Join this consumer group with subscribe() (default: assign() every partition, no group).")
    String group;

    @Option(names = "--consumer.config", paramLabel = "FILE", description = "Consumer properties file.")
    Path consumerConfig;

    @Option(names = "--consumer-props", arity = "1..*", paramLabel = "PROP=VALUE", description = "Consumer properties.")
    List<String> consumerProps = new ArrayList<>();

    @Option(names = "--timeout", defaultValue = "10000", description = "Give up after this many ms without a record (default 10000).")
    long timeoutMs;

    @Option(names = "--fetch-size", defaultValue = "1048576", description = "max.partition.fetch.bytes (default 1 MiB).")
    int fetchSize;

    @Option(names = "--socket-buffer-size", defaultValue = "2097152", description = "receive.buffer.bytes (default 2 MiB).")
    int socketBufferSize;

    @Option(names = "--hide-header", description = "Print the figures line only.")
    boolean hideHeader;

    @Option(names = "--date-format", defaultValue = "yyyy-MM-dd HH:mm:ss:SSS", description = "Format of start.time and end.time.")
    String dateFormat;

    @Option(names = "--client", defaultValue = "kafka", converter = ClientKindConverter.class,
        description = "Client library: kafka (Apache kafka-clients) or weir. Default: kafka.")
    ClientKind client;

    private PrintStream out = System.out;
    private PrintStream err = System.err;

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    public static int run(PrintStream out, PrintStream err, String... args) {
        ConsumerPerformance tool = new ConsumerPerformance();
        tool.out = out;
        tool.err = err;
        return Tools.execute(tool, out, err, args);
    }

    @Override
    public Integer call() {
        client.requireAvailable("consumer");
        Properties props = new Properties();
        props.setProperty(ConsumerConfig.RECEIVE_BUFFER_CONFIG, Integer.toString(socketBufferSize));
        props.setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(fetchSize));
        props.setProperty(ConsumerConfig.CHECK_CRCS_CONFIG, "false");
        props.setProperty(ConsumerConfig.CLIENT_ID_CONFIG, "perf-consumer-client");
        props.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.putAll(ClientProps.load(consumerConfig, consumerProps));
        if (bootstrapServer != null) {
            props.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
        }
        if (group == null) {
            // assign() without a group: nothing to commit, so no coordinator is needed
            props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        } else {
            props.setProperty(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        props.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");

        long[] bytes = new long[1];
        RecordVisitor count = (key, value) -> bytes[0] += (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        long records = 0;
        long startMs;
        long lastConsumedMs;
        long[] assignedAtMs = {-1};
        try (PerfConsumer consumer = open(client, props)) {
            startMs = System.currentTimeMillis();
            if (group == null) {
                consumer.assign(topic, consumer.partitionsFor(topic, timeoutMs));
                consumer.seekToBeginning();
            } else {
                consumer.subscribe(topic, () -> {
                    if (assignedAtMs[0] < 0) {
                        assignedAtMs[0] = System.currentTimeMillis();
                    }
                });
            }
            lastConsumedMs = System.currentTimeMillis();
            while (records < messages) {
                int n = consumer.poll(100, count);
                long nowMs = System.currentTimeMillis();
                if (n == 0) {
                    if (nowMs - lastConsumedMs > timeoutMs) {
                        break;
                    }
                    continue;
                }
                lastConsumedMs = nowMs;
                records += n;
            }
        }
        if (records < messages) {
            err.printf(Locale.ROOT, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. "
                + "You can use the --timeout option to increase the timeout.%n", timeoutMs);
        }
        long endMs = lastConsumedMs;
        long elapsedMs = Math.max(1, endMs - startMs);
        long rebalanceMs = assignedAtMs[0] < 0 ? 0 : Math.min(elapsedMs, assignedAtMs[0] - startMs);
        long fetchMs = Math.max(1, elapsedMs - rebalanceMs);
        double mb = bytes[0] / MB;
        SimpleDateFormat format = new SimpleDateFormat(dateFormat, Locale.ROOT);
        if (!hideHeader) {
            out.println(HEADER);
        }
        out.printf(Locale.ROOT, "%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f%n",
            format.format(new Date(startMs)), format.format(new Date(endMs)),
            mb, mb / (elapsedMs / 1000.0), records, records / (elapsedMs / 1000.0),
            rebalanceMs, fetchMs, mb / (fetchMs / 1000.0), records / (fetchMs / 1000.0));
        return records >= messages ? 0 : 1;
    }

    static PerfConsumer open(ClientKind kind, Properties props) {
        return kind == ClientKind.WEIR ? new WeirPerfConsumer(props) : new KafkaPerfConsumer(props);
    }

    /** Sees each record's key and value (byte arrays, either may be null). */
    interface RecordVisitor {
        void accept(byte[] key, byte[] value);
    }

    /** The calls the load tools make, so kafka-clients' and Weir's consumers run the same loop. */
    interface PerfConsumer extends AutoCloseable {
        List<Integer> partitionsFor(String topic, long timeoutMs);

        void assign(String topic, List<Integer> partitions);

        void seekToBeginning();

        /** Moves every assigned partition to its end and resolves the positions now. */
        void seekToEndNow();

        /** Joins the consumer's group for {@code topic}; {@code onAssigned} runs after each assignment. */
        void subscribe(String topic, Runnable onAssigned);

        /** Polls once and hands every record to {@code visitor}; returns how many there were. */
        int poll(long timeoutMs, RecordVisitor visitor);

        @Override
        void close();
    }

    static final class KafkaPerfConsumer implements PerfConsumer {
        private final KafkaConsumer<byte[], byte[]> consumer;

        KafkaPerfConsumer(Properties props) {
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        @Override
        public List<Integer> partitionsFor(String topic, long timeoutMs) {
            List<Integer> out = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofMillis(timeoutMs))) {
                out.add(info.partition());
            }
            return out;
        }

        @Override
        public void assign(String topic, List<Integer> partitions) {
            consumer.assign(partitions.stream().map(p -> new TopicPartition(topic, p)).toList());
        }

        @Override
        public void seekToBeginning() {
            consumer.seekToBeginning(consumer.assignment());
        }

        @Override
        public void seekToEndNow() {
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position);
        }

        @Override
        public void subscribe(String topic, Runnable onAssigned) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    onAssigned.run();
                }
            });
        }

        @Override
        public int poll(long timeoutMs, RecordVisitor visitor) {
            int n = 0;
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(timeoutMs))) {
                visitor.accept(r.key(), r.value());
                n++;
            }
            return n;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    static final class WeirPerfConsumer implements PerfConsumer {
        private final io.weir.consumer.WeirConsumer<byte[], byte[]> consumer;

        WeirPerfConsumer(Properties props) {
            consumer = new io.weir.consumer.WeirConsumer<>(props, new io.weir.consumer.Deserializers.ByteArrayDeserializer(),
                new io.weir.consumer.Deserializers.ByteArrayDeserializer());
        }

        @Override
        public List<Integer> partitionsFor(String topic, long timeoutMs) {
            List<Integer> out = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofMillis(timeoutMs)).forEach(info -> out.add(info.partition()));
            return out;
        }

        @Override
        public void assign(String topic, List<Integer> partitions) {
            consumer.assign(partitions.stream().map(p -> new io.weir.common.TopicPartition(topic, p)).toList());
        }

        @Override
        public void seekToBeginning() {
            consumer.seekToBeginning(consumer.assignment());
        }

        @Override
        public void seekToEndNow() {
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position);
        }

        @Override
        public void subscribe(String topic, Runnable onAssigned) {
            consumer.subscribe(List.of(topic), new io.weir.consumer.ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<io.weir.common.TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(Collection<io.weir.common.TopicPartition> partitions) {
                    onAssigned.run();
                }
            });
        }

        @Override
        public int poll(long timeoutMs, RecordVisitor visitor) {
            int n = 0;
            for (io.weir.consumer.ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(timeoutMs))) {
                visitor.accept(r.key(), r.value());
                n++;
            }
            return n;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
