package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.AdminOptions;
import io.weir.admin.Config;
import io.weir.admin.ConfigEntry;
import io.weir.admin.ConfigResource;
import io.weir.admin.NewPartitions;
import io.weir.admin.NewTopic;
import io.weir.admin.TopicDescription;
import io.weir.admin.TopicListing;
import io.weir.admin.TopicPartitionInfo;
import io.weir.admin.errors.TopicExistsException;
import io.weir.protocol.client.Node;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * {@code bin/weir-topics.sh}: create, list, describe, alter (partition count) and delete topics,
 * with the flags and output of Kafka's {@code kafka-topics.sh}, so scripts written for Kafka work.
 * For --list, --describe, --alter and --delete, {@code --topic} is a regular expression matched
 * against whole topic names, as in Kafka.
 *
 * <p>Exit status: 0 on success; 1 with usage on stderr for bad or missing flags; 1 with
 * {@code Error while executing topic command : <message>} when the broker refuses.
 */
@Command(name = "weir-topics.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Create, delete, describe, or change a topic.")
public final class TopicCommand {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--command-config", paramLabel = "FILE", description = "Admin client properties file.")
    Path commandConfig;
    @Option(names = "--create", description = "Create a new topic.")
    boolean create;
    @Option(names = "--list", description = "List all available topics.")
    boolean list;
    @Option(names = "--describe", description = "List details for the given topics.")
    boolean describe;
    @Option(names = "--alter", description = "Alter the number of partitions of a topic.")
    boolean alter;
    @Option(names = "--delete", description = "Delete a topic.")
    boolean delete;
    @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic to create, alter, describe or delete "
        + "(a regular expression except with --create).")
    String topic;
    @Option(names = "--partitions", paramLabel = "N", description = "Partitions of the topic being created or altered.")
    Integer partitions;
    @Option(names = "--replication-factor", paramLabel = "N", description = "Replication factor of the topic being created.")
    Integer replicationFactor;
    @Option(names = "--config", paramLabel = "NAME=VALUE", description = "A topic config override for the topic "
        + "being created (repeatable).")
    List<String> configs = new ArrayList<>();
    @Option(names = "--if-not-exists", description = "With --create: do nothing if the topic already exists.")
    boolean ifNotExists;
    @Option(names = "--if-exists", description = "With --alter, --describe or --delete: do nothing if the topic does not exist.")
    boolean ifExists;
    @Option(names = "--exclude-internal", description = "Leave internal topics out of --list and --describe.")
    boolean excludeInternal;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;


    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        TopicCommand cmd = new TopicCommand();
        CommandLine cl = new CommandLine(cmd);
        List<Map<String, String>> parsed = new ArrayList<>(1);
        Integer exit = Cli.parse(cl, args, out, err, () -> {
            cmd.validate();
            parsed.add(cmd.parseConfigs());
        });
        if (exit != null) {
            return exit;
        }
        Map<String, String> topicConfigs = parsed.get(0);
        Properties props = Cli.adminProperties(cmd.commandConfig, cmd.bootstrapServer, err, "Error while executing topic command : ");
        if (props == null) {
            return 1;
        }
        try (Admin admin = adminFactory.apply(props)) {
            cmd.execute(admin, topicConfigs, out);
            return 0;
        } catch (Exception e) {
            Throwable t = Cli.unwrap(e);
            err.println("Error while executing topic command : " + t.getMessage());
            return 1;
        }
    }

    void validate() throws UsageException {
        int actions = (create ? 1 : 0) + (list ? 1 : 0) + (describe ? 1 : 0) + (alter ? 1 : 0) + (delete ? 1 : 0);
        if (actions != 1) {
            throw new UsageException("Command must include exactly one action: --list, --describe, --create, --alter or --delete");
        }
        if (bootstrapServer == null || bootstrapServer.isBlank()) {
            throw new UsageException("Missing required argument \"[bootstrap-server]\"");
        }
        if ((create || alter || delete) && topic == null) {
            throw new UsageException("Missing required argument \"[topic]\"");
        }
        if (alter && partitions == null) {
            throw new UsageException("--alter requires --partitions");
        }
        if (partitions != null && !(create || alter)) {
            throw new UsageException("Option \"[partitions]\" can't be used with option \"[" + action() + "]\"");
        }
        if (partitions != null && partitions < 1) {
            throw new UsageException("The partitions must be greater than 0");
        }
        if (replicationFactor != null && !create) {
            throw new UsageException("Option \"[replication-factor]\" can't be used with option \"[" + action() + "]\"");
        }
        if (replicationFactor != null && (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE)) {
            throw new UsageException("The replication factor must be between 1 and " + Short.MAX_VALUE + " inclusive");
        }
        if (!configs.isEmpty() && !create) {
            throw new UsageException("Option \"[config]\" can only be used with option \"[create]\"");
        }
        if (ifNotExists && !create) {
            throw new UsageException("Option \"[if-not-exists]\" can only be used with option \"[create]\"");
        }
        if (ifExists && !(alter || describe || delete)) {
            throw new UsageException("Option \"[if-exists]\" can only be used with --alter, --describe or --delete");
        }
        if (excludeInternal && !(list || describe)) {
            throw new UsageException("Option \"[exclude-internal]\" can only be used with --list or --describe");
        }
        if (topic != null && !create) {
            try {
                Pattern.compile(topic);
            } catch (PatternSyntaxException e) {
                throw new UsageException("--topic is not a valid regular expression: " + e.getDescription());
            }
        }
    }

    private String action() {
        return create ? "create" : list ? "list" : describe ? "describe" : alter ? "alter" : "delete";
    }

    Map<String, String> parseConfigs() throws UsageException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String c : configs) {
            int eq = c.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("Invalid topic config: all configs to be added must be in the format \"key=val\": " + c);
            }
            out.put(c.substring(0, eq).trim(), c.substring(eq + 1).trim());
        }
        return out;
    }

    void execute(Admin admin, Map<String, String> topicConfigs, PrintStream out) throws Exception {
        if (create) {
            NewTopic nt = new NewTopic(topic, Optional.ofNullable(partitions),
                Optional.ofNullable(replicationFactor).map(Integer::shortValue), topicConfigs);
            try {
                admin.createTopics(List.of(nt)).all().get();
                out.println("Created topic " + topic + ".");
            } catch (ExecutionException e) {
                if (!(ifNotExists && e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            return;
        }
        List<String> matched = matchingTopics(admin);
        if (list) {
            matched.forEach(out::println);
            return;
        }
        if (matched.isEmpty()) {
            if (ifExists) {
                return;
            }
            throw new IllegalArgumentException(topic == null ? "No topics exist"
                : "Topic '" + topic + "' does not exist as expected");
        }
        if (describe) {
            describeTopics(admin, matched, out);
        } else if (alter) {
            Map<String, NewPartitions> np = new LinkedHashMap<>();
            matched.forEach(t -> np.put(t, NewPartitions.increaseTo(partitions)));
            admin.createPartitions(np).all().get();
        } else {
            admin.deleteTopics(matched).all().get();
        }
    }

    /** Topic names the --topic regex matches in full (all topics without --topic), sorted. */
    private List<String> matchingTopics(Admin admin) throws Exception {
        Map<String, TopicListing> all = admin.listTopics(AdminOptions.defaults().listInternal(!excludeInternal)).get();
        Pattern p = topic == null ? null : Pattern.compile(topic);
        return all.keySet().stream().filter(n -> p == null || p.matcher(n).matches()).sorted().toList();
    }

    private void describeTopics(Admin admin, List<String> names, PrintStream out) throws Exception {
        Map<String, TopicDescription> descriptions = admin.describeTopics(names).all().get();
        List<ConfigResource> resources = names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        for (String n : names) {
            TopicDescription d = descriptions.get(n);
            Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, n));
            out.println(formatTopic(d, c));
            for (TopicPartitionInfo p : d.partitions()) {
                out.println(formatPartition(n, p));
            }
        }
    }

    /** The topic line: only configs set on the topic itself are shown, as in Kafka. */
    static String formatTopic(TopicDescription d, Config config) {
        int rf = d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
        String configs = config == null ? "" : config.entries().stream()
            .filter(e -> e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG)
            .map(e -> e.name() + "=" + (e.isSensitive() ? "<sensitive>" : e.value()))
            .collect(Collectors.joining(","));
        return "Topic: " + d.name() + "\tTopicId: " + formatTopicId(d.topicId()) + "\tPartitionCount: "
            + d.partitions().size() + "\tReplicationFactor: " + rf + "\tConfigs: " + configs;
    }

    static String formatPartition(String topic, TopicPartitionInfo p) {
        return "\tTopic: " + topic + "\tPartition: " + p.partition() + "\tLeader: "
            + (p.leader() == null ? "none" : String.valueOf(p.leader().id()))
            + "\tReplicas: " + ids(p.replicas()) + "\tIsr: " + ids(p.isr());
    }

    private static String ids(List<Node> nodes) {
        return nodes.stream().map(n -> String.valueOf(n.id())).collect(Collectors.joining(","));
    }

    /** Kafka prints topic ids as URL-safe base64 of the 16 bytes, unpadded (22 characters). */
    static String formatTopicId(UUID id) {
        if (id == null) {
            return "";
        }
        ByteBuffer b = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }
}
