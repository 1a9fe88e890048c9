package io.weir.tools;

import io.weir.common.TopicPartition;
import io.weir.common.record.Header;
import io.weir.consumer.ConsumerConfig;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.ConsumerRecords;
import io.weir.consumer.Deserializers;
import io.weir.consumer.WeirConsumer;
import io.weir.consumer.errors.WakeupException;
import io.weir.protocol.client.Cluster;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * {@code bin/weir-console-consumer.sh}: prints records of a topic to stdout, with the flags of Kafka's
 * {@code kafka-console-consumer.sh}. Without {@code --group} it reads with a throwaway group id, like
 * Kafka; with {@code --partition} it reads that partition by assignment (no group needed).
 *
 * <p>Output: one line per record, the value, preceded by the key and {@code key.separator} (a tab by
 * default) with {@code --property print.key=true}; {@code print.timestamp}, {@code print.partition},
 * {@code print.offset} and {@code print.headers} add fields the same way Kafka's default formatter does.
 * The count of processed messages goes to stderr at exit. Exit status: 0 on success (including a
 * {@code --timeout-ms} expiry), 1 with usage on stderr for bad flags, 1 on a consumer error.
 */
@Command(name = "weir-console-consumer.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Consume records from a topic and print them to standard output.")
public final class ConsoleConsumer {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic to consume.")
    String topic;
    @Option(names = "--include", paramLabel = "REGEX", description = "Regular expression of the topics to consume (instead of --topic).")
    String include;
    @Option(names = "--group", paramLabel = "GROUP", description = "The consumer group to join.")
    String group;
    @Option(names = "--from-beginning", description = "Start with the earliest record when there is no committed offset.")
    boolean fromBeginning;
    @Option(names = "--max-messages", paramLabel = "N", description = "Exit after N records.")
    Integer maxMessages;
    @Option(names = "--partition", paramLabel = "P", description = "Read only this partition (by assignment).")
    Integer partition;
    @Option(names = "--offset", paramLabel = "OFFSET", description = "With --partition: earliest, latest, or an offset (default latest).")
    String offset;
    @Option(names = "--property", paramLabel = "NAME=VALUE", description = "Formatter property: print.key, print.timestamp, "
        + "print.partition, print.offset, print.headers, print.value, key.separator, line.separator, headers.separator, "
        + "key.deserializer, value.deserializer (repeatable).")
    List<String> properties = new ArrayList<>();
    @Option(names = "--isolation-level", paramLabel = "LEVEL", description = "read_committed or read_uncommitted (default).")
    String isolationLevel;
    @Option(names = "--consumer-property", paramLabel = "NAME=VALUE", description = "A consumer config (repeatable).")
    List<String> consumerProperties = new ArrayList<>();
    @Option(names = {"--consumer.config", "--consumer-config"}, paramLabel = "FILE", description = "Consumer properties file.")
    Path consumerConfig;
    @Option(names = "--timeout-ms", paramLabel = "MS", description = "Exit when no record arrives for this long.")
    Long timeoutMs;
    @Option(names = "--skip-message-on-error", description = "Skip a record that cannot be deserialized instead of exiting.")
    boolean skipOnError;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;


    public static void main(String[] args) {
        AtomicBoolean stop = new AtomicBoolean();
        System.exit(run(args, System.out, System.err, stop, true));
    }

    /** Runs the tool; returns the exit status. {@code stop} ends consumption from outside (tests, signals). */
    static int run(String[] args, PrintStream out, PrintStream err, AtomicBoolean stop, boolean installShutdownHook) {
        ConsoleConsumer cmd = new ConsoleConsumer();
        CommandLine cl = new CommandLine(cmd);
        List<Map<String, String>> fmtHolder = new ArrayList<>(1);
        List<Map<String, Object>> propsHolder = new ArrayList<>(1);
        Integer exit = Cli.parse(cl, args, out, err, () -> {
            cmd.validate();
            fmtHolder.add(Cli.parsePairs(cmd.properties, "--property"));
            propsHolder.add(cmd.consumerProps());
        });
        if (exit != null) {
            return exit;
        }
        Map<String, String> fmt = fmtHolder.get(0);
        Map<String, Object> props = propsHolder.get(0);
        try {
            return cmd.consume(props, fmt, out, err, stop, installShutdownHook);
        } catch (RuntimeException e) {
            err.println("Error processing message, terminating consumer process: " + e);
            return 1;
        }
    }

    void validate() throws UsageException {
        if (bootstrapServer == null) {
            throw new UsageException("Missing required argument \"[bootstrap-server]\"");
        }
        if ((topic == null) == (include == null)) {
            throw new UsageException("Exactly one of --topic or --include is required.");
        }
        if (partition != null && topic == null) {
            throw new UsageException("--partition needs --topic.");
        }
        if (offset != null && partition == null) {
            throw new UsageException("The partition is required when offset is specified.");
        }
        if (partition != null && group != null) {
            throw new UsageException("Options group and partition cannot be specified together.");
        }
        if (fromBeginning && offset != null) {
            throw new UsageException("Options from-beginning and offset cannot be specified together.");
        }
        if (offset != null && !offset.equals("earliest") && !offset.equals("latest")) {
            try {
                if (Long.parseLong(offset) < 0) {
                    throw new UsageException("The offset must be earliest, latest or a non-negative number, not " + offset);
                }
            } catch (NumberFormatException e) {
                throw new UsageException("The offset must be earliest, latest or a non-negative number, not " + offset);
            }
        }
        if (maxMessages != null && maxMessages <= 0) {
            throw new UsageException("--max-messages must be positive.");
        }
        if (isolationLevel != null && !isolationLevel.equals("read_committed") && !isolationLevel.equals("read_uncommitted")) {
            throw new UsageException("--isolation-level must be read_committed or read_uncommitted, not " + isolationLevel);
        }
    }


    Map<String, Object> consumerProps() throws UsageException {
        Map<String, Object> props = new HashMap<>();
        try {
            Properties p = Cli.loadProperties(consumerConfig);
            p.stringPropertyNames().forEach(k -> props.put(k, p.getProperty(k)));
        } catch (IOException e) {
            throw new UsageException("cannot read " + consumerConfig + ": " + e.getMessage());
        }
        props.putAll(Cli.parsePairs(consumerProperties, "--consumer-property"));
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
        props.putIfAbsent(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, Deserializers.ByteArrayDeserializer.class.getName());
        props.putIfAbsent(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, Deserializers.ByteArrayDeserializer.class.getName());
        if (isolationLevel != null) {
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        }
        if (partition == null) {
            if (group != null) {
                props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            } else {
                props.putIfAbsent(ConsumerConfig.GROUP_ID_CONFIG, "console-consumer-" + (100_000 + (int) (Math.random() * 900_000)));
                if (!props.containsKey(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG)) {
                    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"); // a throwaway group keeps no offsets
                }
            }
        } else if (!props.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        }
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest"
            : String.valueOf(props.getOrDefault(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest")));
        try {
            new ConsumerConfig(props);
        } catch (io.weir.common.config.ConfigException e) {
            throw new UsageException(e.getMessage());
        }
        return props;
    }

    @SuppressWarnings("unchecked")
    int consume(Map<String, Object> props, Map<String, String> fmt, PrintStream out, PrintStream err, AtomicBoolean stop,
                boolean installShutdownHook) {
        Formatter formatter = new Formatter(fmt);
        long count = 0;
        try (WeirConsumer<Object, Object> consumer = new WeirConsumer<>(props, (io.weir.consumer.Deserializer<Object>)
            formatter.keyDeserializer, (io.weir.consumer.Deserializer<Object>) formatter.valueDeserializer)) {
            Thread hook = null;
            if (installShutdownHook) {
                Thread main = Thread.currentThread();
                hook = new Thread(() -> {
                    stop.set(true);
                    consumer.wakeup();
                    try {
                        main.join(10_000);
                    } catch (InterruptedException ignored) {
                        // exiting anyway
                    }
                });
                Runtime.getRuntime().addShutdownHook(hook);
            }
            if (partition != null) {
                TopicPartition tp = new TopicPartition(topic, partition);
                List<Cluster.PartitionInfo> parts = consumer.partitionsFor(topic);
                if (parts.stream().noneMatch(p -> p.partition() == partition)) {
                    err.println("Error: partition " + partition + " of topic " + topic + " does not exist");
                    return 1;
                }
                consumer.assign(List.of(tp));
                if (offset == null || offset.equals("latest")) {
                    consumer.seekToEnd(List.of(tp));
                } else if (offset.equals("earliest")) {
                    consumer.seekToBeginning(List.of(tp));
                } else {
                    consumer.seek(tp, Long.parseLong(offset));
                }
            } else if (topic != null) {
                consumer.subscribe(List.of(topic));
            } else {
                consumer.subscribe(Pattern.compile(include));
            }
            long lastRecordMs = System.currentTimeMillis();
            outer:
            while (!stop.get()) {
                ConsumerRecords<Object, Object> records;
                try {
                    records = consumer.poll(Duration.ofMillis(timeoutMs == null ? 1000 : Math.min(1000, timeoutMs)));
                } catch (WakeupException e) {
                    break;
                } catch (io.weir.consumer.errors.RecordDeserializationException e) {
                    if (!skipOnError) {
                        throw e;
                    }
                    err.println("Skipping record at offset " + e.offset() + " of " + e.topicPartition() + ": " + e.getMessage());
                    consumer.seek(e.topicPartition(), e.offset() + 1);
                    continue;
                }
                if (records.isEmpty()) {
                    if (timeoutMs != null && System.currentTimeMillis() - lastRecordMs >= timeoutMs) {
                        break;
                    }
                    continue;
                }
                lastRecordMs = System.currentTimeMillis();
                List<ConsumerRecord<Object, Object>> batch = new ArrayList<>();
                records.forEach(batch::add);
                for (int i = 0; i < batch.size(); i++) {
                    formatter.write(batch.get(i), out);
                    count++;
                    if (maxMessages != null && count >= maxMessages) {
                        // records fetched but not printed must not count as consumed (auto-commit on close)
                        Map<TopicPartition, Long> firstUnprinted = new HashMap<>();
                        for (int j = i + 1; j < batch.size(); j++) {
                            ConsumerRecord<Object, Object> u = batch.get(j);
                            firstUnprinted.putIfAbsent(new TopicPartition(u.topic(), u.partition()), u.offset());
                        }
                        firstUnprinted.forEach(consumer::seek);
                        break outer;
                    }
                }
                out.flush();
            }
            out.flush();
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // shutting down
                }
            }
        }
        err.println("Processed a total of " + count + " messages");
        return 0;
    }

    /** Kafka's DefaultMessageFormatter, with its property names. */
    static final class Formatter {
        final boolean printKey;
        final boolean printValue;
        final boolean printTimestamp;
        final boolean printPartition;
        final boolean printOffset;
        final boolean printHeaders;
        final byte[] keySeparator;
        final byte[] lineSeparator;
        final byte[] headersSeparator;
        final io.weir.consumer.Deserializer<?> keyDeserializer;
        final io.weir.consumer.Deserializer<?> valueDeserializer;

        Formatter(Map<String, String> p) {
            printKey = Boolean.parseBoolean(p.getOrDefault("print.key", "false"));
            printValue = Boolean.parseBoolean(p.getOrDefault("print.value", "true"));
            printTimestamp = Boolean.parseBoolean(p.getOrDefault("print.timestamp", "false"));
            printPartition = Boolean.parseBoolean(p.getOrDefault("print.partition", "false"));
            printOffset = Boolean.parseBoolean(p.getOrDefault("print.offset", "false"));
            printHeaders = Boolean.parseBoolean(p.getOrDefault("print.headers", "false"));
            keySeparator = unescape(p.getOrDefault("key.separator", "\t"));
            lineSeparator = unescape(p.getOrDefault("line.separator", "\n"));
            headersSeparator = unescape(p.getOrDefault("headers.separator", ","));
            keyDeserializer = deserializer(p.get("key.deserializer"));
            valueDeserializer = deserializer(p.get("value.deserializer"));
        }

        private static io.weir.consumer.Deserializer<?> deserializer(String name) {
            if (name == null) {
                return new Deserializers.ByteArrayDeserializer();
            }
            String simple = name.substring(name.lastIndexOf('.') + 1);
            simple = simple.substring(simple.lastIndexOf('$') + 1);
            return switch (simple) {
                case "StringDeserializer" -> new Deserializers.StringDeserializer();
                case "IntegerDeserializer" -> new Deserializers.IntegerDeserializer();
                case "LongDeserializer" -> new Deserializers.LongDeserializer();
                case "UUIDDeserializer" -> new Deserializers.UUIDDeserializer();
                default -> new Deserializers.ByteArrayDeserializer();
            };
        }

        private static byte[] unescape(String s) {
            return s.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r").replace("\\\\", "\\")
                .getBytes(StandardCharsets.UTF_8);
        }

        private static byte[] bytes(Object o) {
            if (o == null) {
                return "null".getBytes(StandardCharsets.UTF_8);
            }
            if (o instanceof byte[] b) {
                return b;
            }
            return o.toString().getBytes(StandardCharsets.UTF_8);
        }

        void write(ConsumerRecord<Object, Object> r, PrintStream out) {
            boolean first = true;
            if (printTimestamp) {
                out.writeBytes((r.timestamp() < 0 ? "NO_TIMESTAMP" : r.timestampType() + ":" + r.timestamp())
                    .getBytes(StandardCharsets.UTF_8));
                first = false;
            }
            if (printPartition) {
                sep(out, first);
                out.writeBytes(("Partition:" + r.partition()).getBytes(StandardCharsets.UTF_8));
                first = false;
            }
            if (printOffset) {
                sep(out, first);
                out.writeBytes(("Offset:" + r.offset()).getBytes(StandardCharsets.UTF_8));
                first = false;
            }
            if (printHeaders) {
                sep(out, first);
                Header[] hs = r.headers();
                if (hs.length == 0) {
                    out.writeBytes("NO_HEADERS".getBytes(StandardCharsets.UTF_8));
                }
                for (int i = 0; i < hs.length; i++) {
                    if (i > 0) {
                        out.writeBytes(headersSeparator);
                    }
                    out.writeBytes((hs[i].key() + ":").getBytes(StandardCharsets.UTF_8));
                    out.writeBytes(bytes(hs[i].value() == null ? null : new String(hs[i].value(), StandardCharsets.UTF_8)));
                }
                first = false;
            }
            if (printKey) {
                sep(out, first);
                out.writeBytes(bytes(r.key()));
                first = false;
            }
            if (printValue) {
                sep(out, first);
                out.writeBytes(bytes(r.value()));
            }
            out.writeBytes(lineSeparator);
        }

        private void sep(PrintStream out, boolean first) {
            if (!first) {
                out.writeBytes(keySeparator);
            }
        }
    }
}
