package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.AdminOptions;
import io.weir.admin.ConsumerGroupDescription;
import io.weir.admin.ConsumerGroupListing;
import io.weir.admin.ListOffsetsResultInfo;
import io.weir.admin.MemberDescription;
import io.weir.admin.OffsetSpec;
import io.weir.admin.TopicDescription;
import io.weir.admin.TopicPartitionInfo;
import io.weir.admin.errors.GroupIdNotFoundException;
import io.weir.common.TopicPartition;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code bin/weir-consumer-groups.sh}: list, describe, reset the offsets of, and delete consumer
 * groups, with the flags and output of Kafka's {@code kafka-consumer-groups.sh}, so scripts written
 * for Kafka work. Describe shows offsets and lag (default), {@code --members} or {@code --state};
 * offsets are reset only for groups without active members, as a dry run unless {@code --execute}.
 *
 * <p>Exit status: 0 on success; 1 with usage on stderr for bad or missing flags; 1 with
 * {@code Error: <message>} on stderr when the broker refuses or a group does not exist.
 */
@Command(name = "weir-consumer-groups.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "List, describe, reset the offsets of, or delete consumer groups.")
public final class ConsumerGroupCommand {
    static final String MISSING = "-";

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--command-config", paramLabel = "FILE", description = "Admin client properties file.")
    Path commandConfig;
    @Option(names = "--timeout", paramLabel = "MS", description = "How long to wait for each broker call (default 5000).")
    int timeoutMs = 5000;
    @Option(names = "--list", description = "List all consumer groups.")
    boolean list;
    @Option(names = "--describe", description = "Describe consumer groups: their offsets and lag (default), "
        + "--members or --state.")
    boolean describe;
    @Option(names = "--reset-offsets", description = "Reset the committed offsets of a group that has no active members.")
    boolean resetOffsets;
    @Option(names = "--delete", description = "Delete consumer groups that have no active members, with their offsets.")
    boolean delete;
    @Option(names = "--group", paramLabel = "GROUP", description = "The consumer group (repeatable).")
    List<String> groups = new ArrayList<>();
    @Option(names = "--all-groups", description = "All consumer groups (with --describe, --delete, --reset-offsets).")
    boolean allGroups;
    @Option(names = "--offsets", description = "With --describe: the group's partitions, offsets and lag (the default).")
    boolean offsets;
    @Option(names = "--members", description = "With --describe: the group's members.")
    boolean members;
    @Option(names = "--state", description = "With --describe: the group's coordinator, assignor, state and size; "
        + "with --list: each group's state.")
    boolean state;
    @Option(names = "--topic", paramLabel = "TOPIC[:P,...]", description = "With --reset-offsets: a topic, optionally "
        + "with partitions, e.g. t:0,1 (repeatable).")
    List<String> topics = new ArrayList<>();
    @Option(names = "--all-topics", description = "With --reset-offsets: every topic the group has offsets for.")
    boolean allTopics;
    @Option(names = "--to-earliest", description = "Reset to the earliest offset.")
    boolean toEarliest;
    @Option(names = "--to-latest", description = "Reset to the latest offset.")
    boolean toLatest;
    @Option(names = "--to-current", description = "Reset to the committed offset (the latest where there is none).")
    boolean toCurrent;
    @Option(names = "--to-offset", paramLabel = "N", description = "Reset to this offset (kept within the log's range).")
    Long toOffset;
    @Option(names = "--shift-by", paramLabel = "N", description = "Move the committed offset by N (may be negative).")
    Long shiftBy;
    @Option(names = "--dry-run", description = "Only show the offsets a reset would set (the default).")
    boolean dryRun;
    @Option(names = "--execute", description = "Commit the reset offsets.")
    boolean execute;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;


    /** A failure reported as {@code Error: <message>} with exit status 1. */
    static final class CommandException extends Exception {
        private static final long serialVersionUID = 1L;

        CommandException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        ConsumerGroupCommand cmd = new ConsumerGroupCommand();
        CommandLine cl = new CommandLine(cmd);
        List<Map<String, List<Integer>>> parsed = new ArrayList<>(1);
        Integer exit = Cli.parse(cl, args, out, err, () -> {
            cmd.validate();
            parsed.add(cmd.parseTopics());
        });
        if (exit != null) {
            return exit;
        }
        Map<String, List<Integer>> topicPartitions = parsed.get(0);
        Properties props = Cli.adminProperties(cmd.commandConfig, cmd.bootstrapServer, err, "Error: ");
        if (props == null) {
            return 1;
        }
        try (Admin admin = adminFactory.apply(props)) {
            return cmd.execute(admin, topicPartitions, out, err);
        } catch (Exception e) {
            err.println("Error: " + message(e));
            return 1;
        }
    }

    /** The root cause's message (futures wrap the broker's error in Completion/ExecutionException). */
    static String message(Throwable e) {
        Throwable t = Cli.unwrap(e);
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    void validate() throws UsageException {
        int actions = (list ? 1 : 0) + (describe ? 1 : 0) + (resetOffsets ? 1 : 0) + (delete ? 1 : 0);
        if (actions != 1) {
            throw new UsageException("Command must include exactly one action: --list, --describe, --delete, --reset-offsets");
        }
        if (bootstrapServer == null || bootstrapServer.isBlank()) {
            throw new UsageException("Missing required argument \"[bootstrap-server]\"");
        }
        if (timeoutMs < 0) {
            throw new UsageException("--timeout must not be negative");
        }
        if (list && (!groups.isEmpty() || allGroups)) {
            throw new UsageException("Option [list] does not take [group] or [all-groups]");
        }
        if (!list && groups.isEmpty() == !allGroups) {
            throw new UsageException("Option [" + action() + "] takes one of these options: [all-groups], [group]");
        }
        int describeViews = (offsets ? 1 : 0) + (members ? 1 : 0) + (state ? 1 : 0);
        if (describeViews > 0 && !describe && !(list && state && describeViews == 1)) {
            throw new UsageException("Options [offsets], [members] and [state] can only be used with [describe]"
                + " ([state] also with [list])");
        }
        if (describeViews > 1) {
            throw new UsageException("Option [describe] takes at most one of these options: [members], [offsets], [state]");
        }
        int scenarios = (toEarliest ? 1 : 0) + (toLatest ? 1 : 0) + (toCurrent ? 1 : 0) + (toOffset != null ? 1 : 0)
            + (shiftBy != null ? 1 : 0);
        boolean resetFlags = scenarios > 0 || allTopics || dryRun || execute;
        if (!resetOffsets && (resetFlags || !topics.isEmpty())) {
            throw new UsageException("Options [topic], [all-topics], [to-*], [shift-by], [dry-run] and [execute] "
                + "can only be used with [reset-offsets]");
        }
        if (resetOffsets) {
            if (scenarios != 1) {
                throw new UsageException("Option [reset-offsets] takes exactly one of these options: [to-earliest], "
                    + "[to-latest], [to-current], [to-offset], [shift-by]");
            }
            if (topics.isEmpty() == !allTopics) {
                throw new UsageException("Option [reset-offsets] takes one of these options: [all-topics], [topic]");
            }
            if (dryRun && execute) {
                throw new UsageException("Option [reset-offsets] only accepts one of [execute], [dry-run]");
            }
            if (toOffset != null && toOffset < 0) {
                throw new UsageException("--to-offset must not be negative");
            }
        }
    }

    private String action() {
        return list ? "list" : describe ? "describe" : resetOffsets ? "reset-offsets" : "delete";
    }

    /** --topic values: topic to its partitions (empty list: every partition), in flag order. */
    Map<String, List<Integer>> parseTopics() throws UsageException {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        for (String t : topics) {
            int colon = t.indexOf(':');
            String name = colon < 0 ? t : t.substring(0, colon);
            if (name.isEmpty()) {
                throw new UsageException("--topic needs a topic name: " + t);
            }
            List<Integer> parts = out.computeIfAbsent(name, k -> new ArrayList<>());
            if (colon >= 0) {
                for (String p : t.substring(colon + 1).split(",")) {
                    try {
                        int n = Integer.parseInt(p.trim());
                        if (n < 0) {
                            throw new NumberFormatException();
                        }
                        parts.add(n);
                    } catch (NumberFormatException e) {
                        throw new UsageException("--topic partitions must be numbers, as in topic:0,1: " + t);
                    }
                }
            }
        }
        return out;
    }

    int execute(Admin admin, Map<String, List<Integer>> topicPartitions, PrintStream out, PrintStream err)
        throws Exception {
        AdminOptions opts = AdminOptions.defaults().timeoutMs(timeoutMs);
        if (list) {
            printList(admin.listConsumerGroups(opts).get(), out);
            return 0;
        }
        List<String> targets = allGroups
            ? admin.listConsumerGroups(opts).get().stream().map(ConsumerGroupListing::groupId).toList()
            : new ArrayList<>(new LinkedHashSet<>(groups));
        if (delete) {
            return deleteGroups(admin, targets, opts, out, err);
        }
        int status = 0;
        for (String group : targets) {
            try {
                if (describe) {
                    describeGroup(admin, group, opts, out, err);
                } else {
                    resetGroup(admin, group, topicPartitions, opts, out, err);
                }
            } catch (CommandException e) {
                err.println("Error: " + e.getMessage());
                status = 1;
            }
        }
        return status;
    }

    // ------------------------------------------------------------------ list

    private void printList(List<ConsumerGroupListing> listed, PrintStream out) {
        if (!state) {
            listed.forEach(g -> out.println(g.groupId()));
            return;
        }
        int groupLen = Math.max(15, listed.stream().mapToInt(g -> g.groupId().length()).max().orElse(0));
        String format = "%-" + groupLen + "s %s";
        out.println(String.format(format, "GROUP", "STATE"));
        listed.forEach(g -> out.println(String.format(format, g.groupId(), g.state().isEmpty() ? MISSING : g.state())));
    }

    // ------------------------------------------------------------------ describe

    /** The group's description; a group that does not exist is a {@link CommandException}. */
    private static ConsumerGroupDescription describeOrFail(Admin admin, String group, AdminOptions opts) throws Exception {
        try {
            return admin.describeConsumerGroups(List.of(group), opts).value(group).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                throw new CommandException("Consumer group '" + group + "' does not exist.");
            }
            throw e;
        }
    }

    /** Kafka's notes about a group's state, on stderr so that stdout holds only the table. */
    private static void noteState(ConsumerGroupDescription d, PrintStream err) {
        switch (d.state()) {
            case "Empty" -> err.println("\nConsumer group '" + d.groupId() + "' has no active members.");
            case "PreparingRebalance", "CompletingRebalance" ->
                err.println("\nWarning: Consumer group '" + d.groupId() + "' is rebalancing.");
            default -> {
            }
        }
    }

    private void describeGroup(Admin admin, String group, AdminOptions opts, PrintStream out, PrintStream err)
        throws Exception {
        ConsumerGroupDescription d = describeOrFail(admin, group, opts);
        noteState(d, err);
        if (state) {
            out.print(formatState(d));
        } else if (members) {
            if (!d.members().isEmpty()) {
                out.print(formatMembers(d));
            }
        } else {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group, null, opts).get();
            List<OffsetRow> rows = offsetRows(d, committed);
            if (!rows.isEmpty()) {
                Map<TopicPartition, Long> ends = logEndOffsets(admin, rows.stream().map(OffsetRow::partition).toList(), opts);
                out.print(formatOffsets(group, rows, ends));
            }
        }
    }

    /** One row of the offsets view: a partition, its committed offset (null if none) and its member (null if none). */
    record OffsetRow(TopicPartition partition, Long committed, MemberDescription member) {
    }

    private static final Comparator<TopicPartition> BY_TOPIC_PARTITION =
        Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    /**
     * As Kafka orders them: members with the most partitions first, each member's partitions in
     * order, then partitions the group has offsets for that no member owns.
     */
    static List<OffsetRow> offsetRows(ConsumerGroupDescription d, Map<TopicPartition, OffsetAndMetadata> committed) {
        List<OffsetRow> rows = new ArrayList<>();
        Set<TopicPartition> assigned = new LinkedHashSet<>();
        List<MemberDescription> owners = d.members().stream().filter(m -> !m.assignment().isEmpty())
            .sorted(Comparator.comparingInt((MemberDescription m) -> -m.assignment().size())
                .thenComparing(MemberDescription::memberId))
            .toList();
        for (MemberDescription m : owners) {
            for (TopicPartition tp : m.assignment().stream().sorted(BY_TOPIC_PARTITION).toList()) {
                OffsetAndMetadata c = committed.get(tp);
                rows.add(new OffsetRow(tp, c == null ? null : c.offset(), m));
                assigned.add(tp);
            }
        }
        committed.keySet().stream().filter(tp -> !assigned.contains(tp)).sorted(BY_TOPIC_PARTITION)
            .forEach(tp -> rows.add(new OffsetRow(tp, committed.get(tp).offset(), null)));
        return rows;
    }

    /** Log-end offsets; a partition whose lookup fails (deleted topic, no leader) is left out and shown as "-". */
    private static Map<TopicPartition, Long> logEndOffsets(Admin admin, List<TopicPartition> partitions, AdminOptions opts) {
        Map<TopicPartition, OffsetSpec> specs = new LinkedHashMap<>();
        partitions.forEach(tp -> specs.put(tp, OffsetSpec.latest()));
        return offsetsAt(admin, specs, opts);
    }

    private static Map<TopicPartition, Long> offsetsAt(Admin admin, Map<TopicPartition, OffsetSpec> specs, AdminOptions opts) {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        admin.listOffsets(specs, opts).values().forEach((tp, f) -> {
            try {
                out.put(tp, f.join().offset());
            } catch (CompletionException ignored) {
                // left out: shown as "-", or reported by the caller
            }
        });
        return out;
    }

    static String formatOffsets(String group, List<OffsetRow> rows, Map<TopicPartition, Long> logEnd) {
        int groupLen = Math.max(15, group.length());
        int topicLen = 15;
        int consumerLen = 15;
        int hostLen = 15;
        for (OffsetRow r : rows) {
            topicLen = Math.max(topicLen, r.partition().topic().length());
            if (r.member() != null) {
                consumerLen = Math.max(consumerLen, r.member().memberId().length());
                hostLen = Math.max(hostLen, r.member().host().length());
            }
        }
        String format = "%-" + groupLen + "s %-" + topicLen + "s %-10s %-15s %-15s %-15s %-" + consumerLen + "s %-"
            + hostLen + "s %s";
        StringBuilder sb = new StringBuilder("\n");
        sb.append(String.format(format, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
            "CONSUMER-ID", "HOST", "CLIENT-ID")).append('\n');
        for (OffsetRow r : rows) {
            Long end = logEnd.get(r.partition());
            String lag = r.committed() != null && end != null ? String.valueOf(Math.max(0, end - r.committed())) : MISSING;
            MemberDescription m = r.member();
            sb.append(String.format(format, group, r.partition().topic(), r.partition().partition(),
                r.committed() == null ? MISSING : r.committed(), end == null ? MISSING : end, lag,
                m == null ? MISSING : m.memberId(), m == null ? MISSING : m.host(), m == null ? MISSING : m.clientId()))
                .append('\n');
        }
        return sb.append('\n').toString();
    }

    static String formatMembers(ConsumerGroupDescription d) {
        int groupLen = Math.max(15, d.groupId().length());
        int consumerLen = 15;
        int instanceLen = 17;
        int hostLen = 15;
        int clientLen = 15;
        boolean withInstanceId = false;
        for (MemberDescription m : d.members()) {
            consumerLen = Math.max(consumerLen, m.memberId().length());
            hostLen = Math.max(hostLen, m.host().length());
            clientLen = Math.max(clientLen, m.clientId().length());
            if (m.groupInstanceId() != null && !m.groupInstanceId().isEmpty()) {
                withInstanceId = true;
                instanceLen = Math.max(instanceLen, m.groupInstanceId().length());
            }
        }
        String format = withInstanceId
            ? "%-" + groupLen + "s %-" + consumerLen + "s %-" + instanceLen + "s %-" + hostLen + "s %-" + clientLen + "s %-15s "
            : "%-" + groupLen + "s %-" + consumerLen + "s %-" + hostLen + "s %-" + clientLen + "s %-15s ";
        StringBuilder sb = new StringBuilder("\n");
        sb.append(withInstanceId
            ? String.format(format, "GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
            : String.format(format, "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS")).append('\n');
        List<MemberDescription> sorted = d.members().stream()
            .sorted(Comparator.comparingInt((MemberDescription m) -> -m.assignment().size())
                .thenComparing(MemberDescription::memberId))
            .toList();
        for (MemberDescription m : sorted) {
            String instance = m.groupInstanceId() == null || m.groupInstanceId().isEmpty() ? MISSING : m.groupInstanceId();
            sb.append(withInstanceId
                ? String.format(format, d.groupId(), m.memberId(), instance, m.host(), m.clientId(), m.assignment().size())
                : String.format(format, d.groupId(), m.memberId(), m.host(), m.clientId(), m.assignment().size()))
                .append('\n');
        }
        return sb.append('\n').toString();
    }

    static String formatState(ConsumerGroupDescription d) {
        String coordinator = d.coordinator() == null ? MISSING
            : d.coordinator().host() + ":" + d.coordinator().port() + " (" + d.coordinator().id() + ")";
        int groupLen = Math.max(15, d.groupId().length());
        int coordinatorLen = Math.max(25, coordinator.length());
        String format = "%-" + groupLen + "s %-" + coordinatorLen + "s %-20s %-15s %s";
        return "\n" + String.format(format, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS") + "\n"
            + String.format(format, d.groupId(), coordinator, d.partitionAssignor(), d.state(), d.members().size())
            + "\n\n";
    }

    // ------------------------------------------------------------------ reset

    private void resetGroup(Admin admin, String group, Map<String, List<Integer>> topicPartitions, AdminOptions opts,
                            PrintStream out, PrintStream err) throws Exception {
        String current;
        try {
            current = admin.describeConsumerGroups(List.of(group), opts).value(group).get().state();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                throw e;
            }
            current = "Dead"; // a group that does not exist yet gets the offsets (and is created)
        }
        if (!current.equals("Empty") && !current.equals("Dead")) {
            throw new CommandException("Assignments can only be reset if the group '" + group
                + "' is inactive, but the current state is " + current + ".");
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group, null, opts).get();
        List<TopicPartition> partitions = partitionsToReset(admin, committed, topicPartitions, opts);
        Map<TopicPartition, Long> target = newOffsets(admin, partitions, committed, opts, out);
        if (!dryRun && !execute) {
            err.println("WARN: No action will be performed as the --execute option is missing. "
                + "Add --dry-run to keep this behaviour without the warning, or --execute to reset the offsets.");
        }
        if (execute) {
            Map<TopicPartition, OffsetAndMetadata> commit = new LinkedHashMap<>();
            target.forEach((tp, o) -> commit.put(tp, new OffsetAndMetadata(o)));
            admin.alterConsumerGroupOffsets(group, commit, opts).all().get();
        }
        out.print(formatReset(group, target));
    }

    private List<TopicPartition> partitionsToReset(Admin admin, Map<TopicPartition, OffsetAndMetadata> committed,
                                                   Map<String, List<Integer>> topicPartitions, AdminOptions opts)
        throws Exception {
        if (allTopics) {
            return committed.keySet().stream().sorted(BY_TOPIC_PARTITION).toList();
        }
        List<TopicPartition> out = new ArrayList<>();
        List<String> whole = topicPartitions.entrySet().stream().filter(e -> e.getValue().isEmpty())
            .map(Map.Entry::getKey).toList();
        Map<String, TopicDescription> described = whole.isEmpty() ? Map.of() : admin.describeTopics(whole, opts).all().get();
        topicPartitions.forEach((topic, parts) -> {
            if (parts.isEmpty()) {
                for (TopicPartitionInfo p : described.get(topic).partitions()) {
                    out.add(new TopicPartition(topic, p.partition()));
                }
            } else {
                new LinkedHashSet<>(parts).forEach(p -> out.add(new TopicPartition(topic, p)));
            }
        });
        out.sort(BY_TOPIC_PARTITION);
        return out;
    }

    /** The offsets the reset sets, kept within [earliest, latest] of each partition as Kafka does. */
    private Map<TopicPartition, Long> newOffsets(Admin admin, List<TopicPartition> partitions,
                                                 Map<TopicPartition, OffsetAndMetadata> committed, AdminOptions opts,
                                                 PrintStream out) throws Exception {
        Map<TopicPartition, Long> earliest = boundaries(admin, partitions, OffsetSpec.earliest(), opts);
        Map<TopicPartition, Long> latest = boundaries(admin, partitions, OffsetSpec.latest(), opts);
        Map<TopicPartition, Long> result = new TreeMap<>(BY_TOPIC_PARTITION);
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata c = committed.get(tp);
            long wanted;
            if (toEarliest) {
                wanted = earliest.get(tp);
            } else if (toLatest) {
                wanted = latest.get(tp);
            } else if (toCurrent) {
                wanted = c != null ? c.offset() : latest.get(tp);
            } else if (toOffset != null) {
                wanted = toOffset;
            } else {
                if (c == null) {
                    throw new CommandException("Cannot shift offset for partition " + tp
                        + " since there is no current committed offset");
                }
                wanted = c.offset() + shiftBy;
            }
            if (wanted > latest.get(tp)) {
                out.println("New offset (" + wanted + ") is higher than latest offset for topic partition " + tp
                    + ". Value will be set to " + latest.get(tp));
                wanted = latest.get(tp);
            } else if (wanted < earliest.get(tp)) {
                out.println("New offset (" + wanted + ") is lower than earliest offset for topic partition " + tp
                    + ". Value will be set to " + earliest.get(tp));
                wanted = earliest.get(tp);
            }
            result.put(tp, wanted);
        }
        return result;
    }

    private static Map<TopicPartition, Long> boundaries(Admin admin, List<TopicPartition> partitions, OffsetSpec spec,
                                                        AdminOptions opts) throws Exception {
        Map<TopicPartition, OffsetSpec> specs = new LinkedHashMap<>();
        partitions.forEach(tp -> specs.put(tp, spec));
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, CompletableFuture<ListOffsetsResultInfo>> e : admin.listOffsets(specs, opts).values().entrySet()) {
            try {
                out.put(e.getKey(), e.getValue().get().offset());
            } catch (ExecutionException ex) {
                throw new CommandException("cannot find the " + spec + " offset of " + e.getKey() + ": " + message(ex));
            }
        }
        return out;
    }

    static String formatReset(String group, Map<TopicPartition, Long> offsets) {
        if (offsets.isEmpty()) {
            return "";
        }
        String format = "%-30s %-30s %-10s %-15s";
        StringBuilder sb = new StringBuilder("\n");
        sb.append(String.format(format, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")).append('\n');
        offsets.forEach((tp, o) -> sb.append(String.format(format, group, tp.topic(), tp.partition(), o)).append('\n'));
        return sb.toString();
    }

    // ------------------------------------------------------------------ delete

    private int deleteGroups(Admin admin, List<String> targets, AdminOptions opts, PrintStream out, PrintStream err) {
        Map<String, CompletableFuture<Void>> results = admin.deleteConsumerGroups(targets, opts).values();
        List<String> deleted = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        results.forEach((g, f) -> {
            try {
                f.join();
                deleted.add(g);
            } catch (CompletionException e) {
                failed.put(g, message(e));
            }
        });
        if (failed.isEmpty()) {
            out.println("Deletion of requested consumer groups (" + quoted(deleted) + ") was successful.");
            return 0;
        }
        err.println("Error: Deletion of some consumer groups failed:");
        failed.forEach((g, m) -> err.println("* Group '" + g + "' could not be deleted due to: " + m));
        if (!deleted.isEmpty()) {
            out.println("\nThese consumer groups were deleted successfully: " + quoted(deleted));
        }
        return 1;
    }

    private static String quoted(List<String> groups) {
        return groups.stream().map(g -> "'" + g + "'").collect(Collectors.joining(", "));
    }
}
