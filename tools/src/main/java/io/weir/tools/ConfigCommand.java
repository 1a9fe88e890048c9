package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.AlterConfigOp;
import io.weir.admin.Config;
import io.weir.admin.ConfigEntry;
import io.weir.admin.ConfigResource;
import io.weir.protocol.client.Node;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code bin/weir-configs.sh}: describe and change topic and broker configs with the flags and output
 * of Kafka's {@code kafka-configs.sh}:
 * <pre>
 * weir-configs.sh --bootstrap-server H:P --entity-type topics --entity-name t --describe [--all]
 * weir-configs.sh --bootstrap-server H:P --entity-type topics --entity-name t --alter --add-config k=v,k2=[a,b] --delete-config k3
 * </pre>
 * {@code --describe} prints {@code Dynamic configs for topic t are:} (or {@code All configs ...} with
 * {@code --all}) and one line per config, {@code   k=v sensitive=false synonyms={SOURCE:key=value, ...}};
 * without {@code --all} only configs set on the entity itself are listed. {@code --alter} applies the
 * changes with IncrementalAlterConfigs and prints {@code Completed updating config for topic t.}
 * {@code --topic t} and {@code --broker 0} are shorthands for the entity flags.
 *
 * <p>Exit status: 0 on success; 1 with usage on stderr for bad flags; 1 with an error message when the
 * broker refuses (Weir's broker configs are static, so altering them is refused).
 */
@Command(name = "weir-configs.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Describe or change the configs of topics and brokers.")
public final class ConfigCommand {
    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--command-config", paramLabel = "FILE", description = "Admin client properties file.")
    Path commandConfig;
    @Option(names = "--entity-type", paramLabel = "TYPE", description = "topics or brokers.")
    String entityType;
    @Option(names = "--entity-name", paramLabel = "NAME", description = "Topic name or broker id.")
    String entityName;
    @Option(names = "--topic", paramLabel = "TOPIC", description = "Shorthand for --entity-type topics --entity-name TOPIC.")
    String topic;
    @Option(names = "--broker", paramLabel = "ID", description = "Shorthand for --entity-type brokers --entity-name ID.")
    String broker;
    @Option(names = "--describe", description = "List configs for the given entity.")
    boolean describe;
    @Option(names = "--all", description = "With --describe: list every config, not only those set on the entity.")
    boolean all;
    @Option(names = "--alter", description = "Alter the configuration of the entity.")
    boolean alter;
    @Option(names = "--add-config", paramLabel = "K=V,...", description = "Configs to set: k1=v1,k2=[v1,v2,v2],k3=v3.")
    String addConfig;
    @Option(names = "--delete-config", paramLabel = "K,...", description = "Config keys to remove: k1,k2.")
    String deleteConfig;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;

    private ConfigResource.Type type;
    private Map<String, String> toAdd = Map.of();
    private List<String> toDelete = List.of();

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        ConfigCommand cmd = new ConfigCommand();
        CommandLine cl = new CommandLine(cmd);
        Integer exit = Cli.parse(cl, args, out, err, cmd::validate);
        if (exit != null) {
            return exit;
        }
        Properties props = Cli.adminProperties(cmd.commandConfig, cmd.bootstrapServer, err, "Error while executing config command : ");
        if (props == null) {
            return 1;
        }
        try (Admin admin = adminFactory.apply(props)) {
            if (cmd.describe) {
                cmd.describe(admin, out);
            } else {
                cmd.alter(admin, out);
            }
            return 0;
        } catch (Exception e) {
            Throwable t = Cli.unwrap(e);
            err.println("Error while executing config command with args '" + String.join(" ", args) + "'");
            err.println(t.getClass().getName() + ": " + t.getMessage());
            return 1;
        }
    }

    void validate() throws UsageException {
        if (bootstrapServer == null || bootstrapServer.isBlank()) {
            throw new UsageException("Missing required argument \"[bootstrap-server]\"");
        }
        if ((describe ? 1 : 0) + (alter ? 1 : 0) != 1) {
            throw new UsageException("Command must include exactly one action: --alter, --describe");
        }
        if (topic != null || broker != null) {
            if (entityType != null || entityName != null || (topic != null && broker != null)) {
                throw new UsageException("Only one of --entity-type/--entity-name, --topic or --broker may be given");
            }
            entityType = topic != null ? "topics" : "brokers";
            entityName = topic != null ? topic : broker;
        }
        if (entityType == null) {
            throw new UsageException("At least one entity type must be specified");
        }
        type = switch (entityType) {
            case "topics" -> ConfigResource.Type.TOPIC;
            case "brokers" -> ConfigResource.Type.BROKER;
            default -> throw new UsageException("Invalid entity type " + entityType
                + ", the entity type must be one of topics, brokers");
        };
        if (type == ConfigResource.Type.BROKER && entityName != null) {
            try {
                Integer.parseInt(entityName);
            } catch (NumberFormatException e) {
                throw new UsageException("The entity name for brokers must be a valid integer broker id, but it is: "
                    + entityName);
            }
        }
        if (all && !describe) {
            throw new UsageException("--all can only be used with --describe");
        }
        if (describe && (addConfig != null || deleteConfig != null)) {
            throw new UsageException("--add-config and --delete-config can only be used with --alter");
        }
        if (alter) {
            if (entityName == null || entityName.isEmpty()) {
                throw new UsageException("An entity name must be specified with --alter of " + entityType);
            }
            if (addConfig == null && deleteConfig == null) {
                throw new UsageException("At least one of --add-config or --delete-config must be specified with --alter");
            }
            toAdd = parseAddConfig(addConfig);
            toDelete = deleteConfig == null ? List.of()
                : java.util.Arrays.stream(deleteConfig.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        }
    }

    /**
     * Kafka's {@code --add-config} syntax: comma-separated {@code key=value}, where a value in square
     * brackets may itself hold commas ({@code k=[a,b]} sets {@code a,b}).
     */
    static Map<String, String> parseAddConfig(String spec) throws UsageException {
        Map<String, String> out = new LinkedHashMap<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        List<String> pairs = new ArrayList<>();
        int depth = 0;
        StringBuilder cur = new StringBuilder();
        for (char c : spec.toCharArray()) {
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            }
            if (c == ',' && depth == 0) {
                pairs.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        pairs.add(cur.toString());
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("Invalid entity config: all configs to be added must be in the format \"key=val\": "
                    + p.trim());
            }
            String value = p.substring(eq + 1).trim();
            if (value.startsWith("[") && value.endsWith("]")) {
                value = value.substring(1, value.length() - 1);
            }
            out.put(p.substring(0, eq).trim(), value);
        }
        return out;
    }

    private String singular() {
        return type == ConfigResource.Type.TOPIC ? "topic" : "broker";
    }

    private void describe(Admin admin, PrintStream out) throws Exception {
        List<String> names = new ArrayList<>();
        if (entityName != null) {
            names.add(entityName);
        } else if (type == ConfigResource.Type.TOPIC) {
            names.addAll(admin.listTopics().get().keySet().stream().sorted().toList());
        } else {
            names.addAll(admin.describeCluster().get().nodes().stream().map(Node::id).sorted()
                .map(String::valueOf).toList());
        }
        for (String name : names) {
            describeOne(admin, name, out);
        }
        if (entityName == null && type == ConfigResource.Type.BROKER) {
            // Weir's broker configs are static: there are no dynamic cluster-wide defaults to list
            out.println("Default configs for brokers in the cluster are:");
        }
    }

    private void describeOne(Admin admin, String name, PrintStream out) throws Exception {
        ConfigResource r = new ConfigResource(type, name);
        Config config = admin.describeConfigs(List.of(r)).all().get().get(r);
        ConfigEntry.ConfigSource dynamic = type == ConfigResource.Type.TOPIC ? ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG
            : ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG;
        out.println((all ? "All" : "Dynamic") + " configs for " + singular() + " " + name + " are:");
        config.entries().stream().filter(e -> all || e.source() == dynamic)
            .sorted(Comparator.comparing(ConfigEntry::name))
            .forEach(e -> out.println(formatEntry(e)));
    }

    /** {@code   name=value sensitive=false synonyms={SOURCE:key=value, ...}}, as Kafka prints a config. */
    static String formatEntry(ConfigEntry e) {
        String synonyms = e.synonyms().stream().map(s -> s.source() + ":" + s.name() + "=" + s.value())
            .collect(Collectors.joining(", "));
        return "  " + e.name() + "=" + (e.isSensitive() ? null : e.value()) + " sensitive=" + e.isSensitive()
            + " synonyms={" + synonyms + "}";
    }

    private void alter(Admin admin, PrintStream out) throws Exception {
        ConfigResource r = new ConfigResource(type, entityName);
        List<AlterConfigOp> ops = new ArrayList<>();
        toAdd.forEach((k, v) -> ops.add(new AlterConfigOp(k, v, AlterConfigOp.OpType.SET)));
        toDelete.forEach(k -> ops.add(new AlterConfigOp(k, null, AlterConfigOp.OpType.DELETE)));
        admin.incrementalAlterConfigs(Map.of(r, ops)).all().get();
        out.println("Completed updating config for " + singular() + " " + entityName + ".");
    }
}
