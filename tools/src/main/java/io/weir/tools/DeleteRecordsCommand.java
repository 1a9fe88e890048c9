package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.AdminResult;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * {@code bin/weir-delete-records.sh}: deletes the records of partitions below given offsets, with the
 * flags, input file and output of Kafka's {@code kafka-delete-records.sh}. The offset file is
 * <pre>{"partitions": [{"topic": "foo", "partition": 1, "offset": 1}], "version": 1}</pre>
 * (offset -1: the high watermark). Each partition then prints {@code partition: foo-1	low_watermark: 1},
 * or {@code partition: foo-1	error: <exception>: <message>}.
 *
 * <p>Exit status: 0 once every partition was answered (errors included, as Kafka's); 1 with usage on
 * stderr for bad flags; 1 with an error line for an unreadable or malformed offset file.
 */
@Command(name = "weir-delete-records.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Delete the records of partitions below given offsets.")
public final class DeleteRecordsCommand {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--offset-json-file", paramLabel = "FILE", description = "REQUIRED: the JSON file with the offset per "
        + "partition: {\"partitions\": [{\"topic\": \"foo\", \"partition\": 1, \"offset\": 1}], \"version\": 1}")
    Path offsetJsonFile;
    @Option(names = "--command-config", paramLabel = "FILE", description = "Admin client properties file.")
    Path commandConfig;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        DeleteRecordsCommand cmd = new DeleteRecordsCommand();
        CommandLine cl = new CommandLine(cmd);
        Integer exit = Cli.parse(cl, args, out, err, () -> {
            if (cmd.bootstrapServer == null || cmd.bootstrapServer.isBlank()) {
                throw new UsageException("Missing required argument \"[bootstrap-server]\"");
            }
            if (cmd.offsetJsonFile == null) {
                throw new UsageException("Missing required argument \"[offset-json-file]\"");
            }
        });
        if (exit != null) {
            return exit;
        }
        Map<TopicPartition, Long> offsets;
        Properties props;
        try {
            offsets = parseOffsetJson(Files.readString(cmd.offsetJsonFile));
            props = Cli.loadProperties(cmd.commandConfig);
        } catch (IOException | IllegalArgumentException e) {
            err.println("Error while executing delete records command : " + e.getMessage());
            return 1;
        }
        props.setProperty("bootstrap.servers", cmd.bootstrapServer);
        try (Admin admin = adminFactory.apply(props)) {
            out.println("Executing records delete operation");
            AdminResult<TopicPartition, Long> result = admin.deleteRecords(offsets);
            // wait for every answer before printing, as Kafka's tool does
            for (var f : result.values().values()) {
                try {
                    f.join();
                } catch (CompletionException ignored) {
                    // printed below
                }
            }
            out.println("Records delete operation completed:");
            result.values().forEach((tp, f) -> {
                try {
                    out.printf("partition: %s\tlow_watermark: %s%n", tp, f.get());
                } catch (ExecutionException | InterruptedException e) {
                    Throwable t = e.getCause() != null ? e.getCause() : e;
                    out.printf("partition: %s\terror: %s: %s%n", tp, t.getClass().getName(), t.getMessage());
                }
            });
            return 0;
        } catch (RuntimeException e) {
            err.println("Error while executing delete records command : " + e.getMessage());
            return 1;
        }
    }

    /**
     * Kafka's offset file: a version and a list of {topic, partition, offset}; a partition listed twice
     * is refused, naming it.
     */
    static Map<TopicPartition, Long> parseOffsetJson(String text) {
        Object doc = Json.parse(text);
        if (!(doc instanceof Map<?, ?> m) || !(m.get("partitions") instanceof List<?> partitions)) {
            throw new IllegalArgumentException("The offset JSON file must hold {\"partitions\": [...], \"version\": 1}");
        }
        if (m.containsKey("version") && !Long.valueOf(1).equals(m.get("version"))) {
            throw new IllegalArgumentException("Not able to parse the offset JSON file: unsupported version " + m.get("version"));
        }
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        List<TopicPartition> duplicates = new java.util.ArrayList<>();
        for (Object o : partitions) {
            if (!(o instanceof Map<?, ?> p) || !(p.get("topic") instanceof String topic)
                || !(p.get("partition") instanceof Long partition) || !(p.get("offset") instanceof Long offset)) {
                throw new IllegalArgumentException("Each partition of the offset JSON file needs a string \"topic\" "
                    + "and integer \"partition\" and \"offset\": " + Json.write(o));
            }
            TopicPartition tp = new TopicPartition(topic, partition.intValue());
            if (out.put(tp, offset) != null) {
                duplicates.add(tp);
            }
        }
        if (!duplicates.isEmpty()) {
            throw new IllegalArgumentException("Offset json file contains duplicate topic partitions: "
                + String.join(",", duplicates.stream().map(TopicPartition::toString).toList()));
        }
        return out;
    }
}
