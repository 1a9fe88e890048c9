package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.LogDirDescription;
import io.weir.admin.ReplicaInfo;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.protocol.client.Node;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code bin/weir-log-dirs.sh --describe}: each broker's log directories with the size, offset lag and
 * future flag of every replica, printed as Kafka's {@code kafka-log-dirs.sh} prints them: two status
 * lines, then one JSON document
 * <pre>{"brokers":[{"broker":0,"logDirs":[{"partitions":[{"partition":"t-0","size":120,"offsetLag":0,
 *   "isFuture":false}],"error":null,"logDir":"/data"}]}],"version":1}</pre>
 * {@code --topic-list} keeps only those topics' partitions; {@code --broker-list} asks only those
 * brokers (default: every broker in the cluster).
 *
 * <p>Exit status: 0 on success; 1 with usage on stderr for bad flags; 1 with an error line otherwise.
 */
@Command(name = "weir-log-dirs.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Query the log directories of brokers.")
public final class LogDirsCommand {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--describe", description = "Describe the specified log directories on the specified brokers.")
    boolean describe;
    @Option(names = "--topic-list", paramLabel = "TOPICS", description = "Comma-separated topics to describe; all "
        + "topics by default.")
    String topicList;
    @Option(names = "--broker-list", paramLabel = "IDS", description = "Comma-separated broker ids to query; every "
        + "broker by default.")
    String brokerList;
    @Option(names = "--command-config", paramLabel = "FILE", description = "Admin client properties file.")
    Path commandConfig;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        LogDirsCommand cmd = new LogDirsCommand();
        CommandLine cl = new CommandLine(cmd);
        List<List<Integer>> brokers = new ArrayList<>(1);
        Integer exit = Cli.parse(cl, args, out, err, () -> {
            if (cmd.bootstrapServer == null || cmd.bootstrapServer.isBlank()) {
                throw new UsageException("Missing required argument \"[bootstrap-server]\"");
            }
            if (!cmd.describe) {
                throw new UsageException("Command must include exactly one action: --describe");
            }
            brokers.add(cmd.parseBrokers());
        });
        if (exit != null) {
            return exit;
        }
        Properties props = Cli.adminProperties(cmd.commandConfig, cmd.bootstrapServer, err, "Error while executing log dirs command : ");
        if (props == null) {
            return 1;
        }
        try (Admin admin = adminFactory.apply(props)) {
            List<Integer> existing = admin.describeCluster().get().nodes().stream().map(Node::id).sorted().toList();
            List<Integer> ids = brokers.get(0) == null ? existing : brokers.get(0);
            List<Integer> unknown = ids.stream().filter(id -> !existing.contains(id)).toList();
            if (!unknown.isEmpty()) {
                err.println("ERROR: The given brokers do not exist from --broker-list: " + join(unknown)
                    + ". Current existent brokers: " + join(existing));
                return 1;
            }
            out.println("Querying brokers for log directories information");
            Map<Integer, Map<String, LogDirDescription>> byBroker = admin.describeLogDirs(ids).all().get();
            out.println("Received log directory information from brokers " + join(ids));
            out.println(Json.write(document(byBroker, cmd.topics())));
            return 0;
        } catch (Exception e) {
            Throwable t = Cli.unwrap(e);
            err.println("Error while executing log dirs command : " + t.getMessage());
            return 1;
        }
    }

    private static String join(List<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** The brokers of --broker-list, or null for every broker. */
    private List<Integer> parseBrokers() throws UsageException {
        if (brokerList == null || brokerList.isBlank()) {
            return null;
        }
        List<Integer> ids = new ArrayList<>();
        for (String s : brokerList.split(",")) {
            try {
                ids.add(Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                throw new UsageException("--broker-list must be comma-separated broker ids: " + brokerList);
            }
        }
        return ids;
    }

    private Set<String> topics() {
        Set<String> out = new LinkedHashSet<>();
        if (topicList != null) {
            for (String t : topicList.split(",")) {
                if (!t.isBlank()) {
                    out.add(t.trim());
                }
            }
        }
        return out;
    }

    /**
     * Kafka's document: per broker its directories, per directory its partitions, and the version; keys
     * in the order Kafka 4.4's tool prints them.
     */
    static Map<String, Object> document(Map<Integer, Map<String, LogDirDescription>> byBroker, Set<String> topics) {
        List<Object> brokers = new ArrayList<>();
        byBroker.forEach((broker, dirs) -> {
            List<Object> logDirs = new ArrayList<>();
            dirs.forEach((path, d) -> {
                List<Object> partitions = new ArrayList<>();
                d.replicaInfos().entrySet().stream()
                    .filter(e -> topics.isEmpty() || topics.contains(e.getKey().topic()))
                    .sorted(Map.Entry.comparingByKey(java.util.Comparator.comparing(TopicPartition::topic)
                        .thenComparingInt(TopicPartition::partition)))
                    .forEach(e -> {
                        ReplicaInfo r = e.getValue();
                        Map<String, Object> p = new LinkedHashMap<>();
                        p.put("partition", e.getKey().toString());
                        p.put("size", r.size());
                        p.put("offsetLag", r.offsetLag());
                        p.put("isFuture", r.isFuture());
                        partitions.add(p);
                    });
                Map<String, Object> dir = new LinkedHashMap<>();
                dir.put("partitions", partitions);
                dir.put("error", d.error() == null ? null : d.error().getClass().getName());
                dir.put("logDir", path);
                logDirs.add(dir);
            });
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("broker", broker);
            b.put("logDirs", logDirs);
            brokers.add(b);
        });
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("brokers", brokers);
        doc.put("version", 1);
        return doc;
    }
}
