package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.AdminOptions;
import io.weir.admin.ElectionType;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code bin/weir-leader-election.sh}: asks the controller for preferred-replica or unclean leader
 * elections, with the flags, input file and output of Kafka's {@code kafka-leader-election.sh}. The
 * partitions are one {@code --topic} with {@code --partition}, every partition
 * ({@code --all-topic-partitions}), or a file:
 * <pre>{"partitions": [{"topic": "foo", "partition": 1}, {"topic": "foobar", "partition": 2}]}</pre>
 * It prints {@code Successfully completed leader election (PREFERRED) for partitions foo-1, foobar-2},
 * {@code Valid replica already elected for partitions ...}, and one
 * {@code Error completing leader election (PREFERRED) for partition: foo-1: <exception>} line per failure.
 *
 * <p>Exit status: 0 when no partition failed; 1 when some did (after printing them), for bad flags
 * (with usage on stderr), or when the request itself failed.
 */
@Command(name = "weir-leader-election.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Elect the preferred replica, or (unclean) any live replica, as the leader of partitions.")
public final class LeaderElectionCommand {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--admin.config", paramLabel = "FILE", description = "Admin client properties file.")
    Path adminConfig;
    @Option(names = "--election-type", paramLabel = "TYPE",
        description = "REQUIRED: PREFERRED (the preferred replica, if in sync) or UNCLEAN (any live replica of a "
            + "partition without a live leader). Case-insensitive.")
    String electionType;
    @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic of the partition (with --partition).")
    String topic;
    @Option(names = "--partition", paramLabel = "N", description = "The partition of --topic.")
    Integer partition;
    @Option(names = "--all-topic-partitions", description = "Elect leaders of every partition.")
    boolean allTopicPartitions;
    @Option(names = "--path-to-json-file", paramLabel = "FILE", description = "The partitions, as "
        + "{\"partitions\": [{\"topic\": \"foo\", \"partition\": 1}]}")
    Path pathToJsonFile;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        LeaderElectionCommand cmd = new LeaderElectionCommand();
        CommandLine cl = new CommandLine(cmd);
        ElectionType[] type = new ElectionType[1];
        Integer exit = Cli.parse(cl, args, out, err, () -> type[0] = cmd.check());
        if (exit != null) {
            return exit;
        }
        Set<TopicPartition> partitions = null;
        Properties props;
        try {
            if (cmd.pathToJsonFile != null) {
                partitions = parsePartitionsJson(Files.readString(cmd.pathToJsonFile));
            } else if (cmd.topic != null) {
                partitions = Set.of(new TopicPartition(cmd.topic, cmd.partition));
            }
            props = Cli.loadProperties(cmd.adminConfig);
        } catch (IOException | IllegalArgumentException e) {
            err.println("Error while making request: " + e.getMessage());
            return 1;
        }
        props.setProperty("bootstrap.servers", cmd.bootstrapServer);
        try (Admin admin = adminFactory.apply(props)) {
            Map<TopicPartition, Optional<Throwable>> results =
                admin.electLeaders(type[0], partitions, AdminOptions.defaults()).get();
            return print(type[0], results, out);
        } catch (ExecutionException e) {
            Throwable t = e.getCause() != null ? e.getCause() : e;
            err.println("Error while making request: " + t);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (RuntimeException e) {
            err.println("Error while making request: " + e);
            return 1;
        }
    }

    /** Kafka's rules: the election type, the servers, and one and only one way of naming partitions. */
    private ElectionType check() throws UsageException {
        if (bootstrapServer == null || bootstrapServer.isBlank()) {
            throw new UsageException("Missing required option(s) [bootstrap-server]");
        }
        if (electionType == null) {
            throw new UsageException("Missing required option(s) [election-type]");
        }
        ElectionType type;
        try {
            type = ElectionType.valueOf(electionType.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageException("Unknown election type: " + electionType + " (PREFERRED or UNCLEAN)");
        }
        int ways = (allTopicPartitions ? 1 : 0) + (topic != null ? 1 : 0) + (pathToJsonFile != null ? 1 : 0);
        if (ways != 1) {
            throw new UsageException("One and only one of the following options is required: "
                + "all-topic-partitions, topic, path-to-json-file");
        }
        if (topic != null && partition == null) {
            throw new UsageException("Missing required option(s) [partition]");
        }
        if (partition != null && topic == null) {
            throw new UsageException("Option partition is only allowed if topic is used");
        }
        return type;
    }

    /** Prints the three kinds of outcome as Kafka's tool does; returns 1 when some partition failed. */
    private static int print(ElectionType type, Map<TopicPartition, Optional<Throwable>> results, PrintStream out) {
        List<TopicPartition> succeeded = new ArrayList<>();
        List<TopicPartition> noop = new ArrayList<>();
        Map<TopicPartition, Throwable> failed = new LinkedHashMap<>();
        results.forEach((tp, error) -> {
            if (error.isEmpty()) {
                succeeded.add(tp);
            } else if (error.get() instanceof ApiException api && api.error() == Errors.ELECTION_NOT_NEEDED) {
                noop.add(tp);
            } else {
                failed.put(tp, error.get());
            }
        });
        if (!succeeded.isEmpty()) {
            out.printf("Successfully completed leader election (%s) for partitions %s%n", type, join(succeeded));
        }
        if (!noop.isEmpty()) {
            out.printf("Valid replica already elected for partitions %s%n", join(noop));
        }
        failed.forEach((tp, t) -> out.printf("Error completing leader election (%s) for partition: %s: %s%n", type, tp, t));
        if (!failed.isEmpty()) {
            out.printf("%d replica(s) could not be elected%n", failed.size());
            return 1;
        }
        return 0;
    }

    private static String join(List<TopicPartition> tps) {
        return tps.stream().map(TopicPartition::toString).collect(Collectors.joining(", "));
    }

    /** Kafka's partition file: {"partitions": [{"topic": ..., "partition": ...}]}; a partition listed twice is refused. */
    static Set<TopicPartition> parsePartitionsJson(String text) {
        Object doc = Json.parse(text);
        if (!(doc instanceof Map<?, ?> m) || !(m.get("partitions") instanceof List<?> list)) {
            throw new IllegalArgumentException("The partition JSON file must hold {\"partitions\": [...]}");
        }
        Set<TopicPartition> out = new LinkedHashSet<>();
        List<TopicPartition> duplicates = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> p) || !(p.get("topic") instanceof String t) || !(p.get("partition") instanceof Long n)) {
                throw new IllegalArgumentException("Each partition of the JSON file needs a string \"topic\" and an "
                    + "integer \"partition\": " + Json.write(o));
            }
            TopicPartition tp = new TopicPartition(t, n.intValue());
            if (!out.add(tp)) {
                duplicates.add(tp);
            }
        }
        if (!duplicates.isEmpty()) {
            throw new IllegalArgumentException("Replica election data contains duplicate partitions: " + join(duplicates));
        }
        return out;
    }
}
