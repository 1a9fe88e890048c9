package io.weir.tools;

import io.weir.common.config.ConfigException;
import io.weir.producer.Producer;
import io.weir.producer.ProducerConfig;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializers;
import io.weir.producer.WeirProducer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * {@code bin/weir-console-producer.sh}: sends each line of stdin as a record, with the flags of
 * Kafka's {@code kafka-console-producer.sh}: {@code --property parse.key=true --property
 * key.separator=:} splits key from value, {@code --producer-property k=v} and
 * {@code --producer.config FILE} pass producer settings (the flags win over the file), and
 * {@code --compression-codec} alone means gzip, as in Kafka.
 *
 * <p>Exit status: 0 when every line was acknowledged; 1 with usage on stderr for bad flags or
 * producer settings; 1 after all lines if any send failed (each failure is printed to stderr).
 */
@Command(name = "weir-console-producer.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Read lines from standard input and send them as records to a topic.")
public final class ConsoleProducer {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED (or --broker-list): the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--broker-list", paramLabel = "HOST:PORT", description = "Deprecated alias of --bootstrap-server.")
    String brokerList;
    @Option(names = "--topic", paramLabel = "TOPIC", description = "REQUIRED: the topic to produce to.")
    String topic;
    @Option(names = "--property", paramLabel = "PROP=VALUE", description = "Line reader properties: parse.key, "
        + "key.separator (default tab), ignore.error (repeatable).")
    List<String> properties = new ArrayList<>();
    @Option(names = "--producer-property", paramLabel = "PROP=VALUE", description = "A producer setting (repeatable).")
    List<String> producerProperties = new ArrayList<>();
    @Option(names = "--producer.config", paramLabel = "FILE", description = "Producer settings file.")
    Path producerConfig;
    @Option(names = "--compression-codec", arity = "0..1", fallbackValue = "gzip", paramLabel = "CODEC",
        description = "none, gzip (the default when the flag has no value), snappy, lz4 or zstd.")
    String compressionCodec;
    @Option(names = "--request-required-acks", paramLabel = "ACKS", description = "acks (default all).")
    String acks;
    @Option(names = "--sync", description = "Send each record synchronously.")
    boolean sync;
    @Option(names = "--timeout", paramLabel = "MS", description = "linger.ms (default 1000, as Kafka's tool).")
    Long lingerMs;
    @Option(names = "--batch-size", paramLabel = "N", description = "Records per batch (sets batch.size in bytes "
        + "loosely, as Kafka's tool does).")
    Integer batchSize;
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Print usage.")
    boolean help;

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err, WeirProducer::new));
    }

    /** Runs the tool; returns the exit status. {@code factory} is replaceable for tests. */
    static int run(String[] args, InputStream in, PrintStream out, PrintStream err,
                   Function<Map<String, Object>, Producer<byte[], byte[]>> factory) {
        ConsoleProducer cmd = new ConsoleProducer();
        CommandLine cl = new CommandLine(cmd);
        Integer exit = Cli.parse(cl, args, out, err, () -> { });
        if (exit != null) {
            return exit;
        }
        String bootstrap = cmd.bootstrapServer != null ? cmd.bootstrapServer : cmd.brokerList;
        if (bootstrap == null || cmd.topic == null) {
            err.println("Missing required option: " + (bootstrap == null ? "--bootstrap-server" : "--topic"));
            cl.usage(err);
            return 1;
        }
        Map<String, String> reader;
        Map<String, Object> config = new HashMap<>();
        try {
            reader = Cli.parsePairs(cmd.properties, "--property");
            if (cmd.producerConfig != null) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(cmd.producerConfig, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                p.stringPropertyNames().forEach(k -> config.put(k, p.getProperty(k)));
            }
            config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "1000");
            config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "console-producer");
            config.putAll(Cli.parsePairs(cmd.producerProperties, "--producer-property"));
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            if (cmd.compressionCodec != null) {
                config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, cmd.compressionCodec);
            }
            if (cmd.acks != null) {
                config.put(ProducerConfig.ACKS_CONFIG, cmd.acks);
            }
            if (cmd.lingerMs != null) {
                config.put(ProducerConfig.LINGER_MS_CONFIG, cmd.lingerMs);
            }
            if (cmd.batchSize != null) {
                config.put(ProducerConfig.BATCH_SIZE_CONFIG, cmd.batchSize);
            }
            config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, Serializers.ByteArraySerializer.class.getName());
            config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, Serializers.ByteArraySerializer.class.getName());
        } catch (IllegalArgumentException | IOException | Cli.UsageException e) {
            err.println(e.getMessage());
            cl.usage(err);
            return 1;
        }
        boolean parseKey = Boolean.parseBoolean(reader.getOrDefault("parse.key", "false"));
        String separator = reader.getOrDefault("key.separator", "\t");
        boolean ignoreError = Boolean.parseBoolean(reader.getOrDefault("ignore.error", "false"));
        Producer<byte[], byte[]> producer;
        try {
            producer = factory.apply(config);
        } catch (ConfigException e) {
            err.println("Invalid producer configuration: " + e.getMessage());
            return 1;
        }
        AtomicInteger failures = new AtomicInteger();
        try (producer; BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = lines.readLine()) != null) {
                lineNo++;
                byte[] key = null;
                String value = line;
                if (parseKey) {
                    int i = line.indexOf(separator);
                    if (i < 0) {
                        if (!ignoreError) {
                            err.println("No key separator '" + separator + "' found on line number " + lineNo + ": '"
                                + line + "'");
                            return 1;
                        }
                    } else {
                        key = line.substring(0, i).getBytes(StandardCharsets.UTF_8);
                        value = line.substring(i + separator.length());
                    }
                }
                byte[] v = value.getBytes(StandardCharsets.UTF_8);
                byte[] k = key;
                var f = producer.send(new ProducerRecord<>(cmd.topic, k, v), (md, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                        err.println("Error when sending message to topic " + cmd.topic + " with key: "
                            + (k == null ? "null" : k.length + " bytes") + ", value: " + v.length + " bytes with error: "
                            + e.getMessage());
                    }
                });
                if (cmd.sync) {
                    try {
                        f.get();
                    } catch (ExecutionException e) {
                        // reported by the callback
                    }
                }
            }
            producer.flush();
        } catch (RuntimeException | IOException e) {
            err.println("Error: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        return failures.get() == 0 ? 0 : 1;
    }

}
