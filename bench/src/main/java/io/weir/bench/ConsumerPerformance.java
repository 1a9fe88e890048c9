package io.weir.bench;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * A consumer load tool with Apache Kafka's {@code kafka-consumer-perf-test} flags and output columns.
 *
 * <p>It reads every partition of the topic from the beginning with {@code assign()} (no group
 * membership: Weir has no group coordinator yet), so {@code rebalance.time.ms} is 0 and
 * {@code --group} is accepted but not used.
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

    @Option(names = "--group", defaultValue = "perf-consumer", description = "Consumer group (accepted; used once Weir has groups).")
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
        props.putAll(ClientProps.load(consumerConfig, consumerProps));
        if (bootstrapServer != null) {
            props.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
        }
        // assign() without a group: nothing to commit, so no coordinator is needed
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");

        long records = 0;
        long bytes = 0;
        long startMs;
        long lastConsumedMs;
        try (KafkaConsumer<byte[], byte[]> consumer =
                 new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            startMs = System.currentTimeMillis();
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofMillis(timeoutMs))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            lastConsumedMs = System.currentTimeMillis();
            while (records < messages) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
                long nowMs = System.currentTimeMillis();
                if (batch.isEmpty()) {
                    if (nowMs - lastConsumedMs > timeoutMs) {
                        break;
                    }
                    continue;
                }
                lastConsumedMs = nowMs;
                for (ConsumerRecord<byte[], byte[]> record : batch) {
                    records++;
                    bytes += (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
                }
            }
        }
        if (records < messages) {
            err.printf(Locale.ROOT, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. "
                + "You can use the --timeout option to increase the timeout.%n", timeoutMs);
        }
        long endMs = lastConsumedMs;
        long elapsedMs = Math.max(1, endMs - startMs);
        long rebalanceMs = 0;
        long fetchMs = Math.max(1, elapsedMs - rebalanceMs);
        double mb = bytes / MB;
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
}
