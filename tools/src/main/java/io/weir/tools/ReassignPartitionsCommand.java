package io.weir.tools;

import io.weir.admin.Admin;
import io.weir.admin.AlterConfigOp;
import io.weir.admin.ConfigResource;
import io.weir.admin.PartitionReassignment;
import io.weir.admin.TopicDescription;
import io.weir.admin.TopicPartitionInfo;
import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.protocol.client.Node;
import io.weir.tools.Cli.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code bin/weir-reassign-partitions.sh}: moves partitions between brokers with the flags, JSON files and
 * output of Kafka's {@code kafka-reassign-partitions.sh} (KIP-455). One action:
 * <ul>
 *   <li>{@code --generate --topics-to-move-json-file F --broker-list 0,1,2}: prints the current assignment
 *   and a proposed one spreading the topics' partitions over those brokers, each partition keeping its
 *   replica count: round robin over the sorted list, or, when the brokers have a {@code broker.rack} (and
 *   no {@code --disable-rack-aware}), over a list alternating racks with each partition's replicas on as
 *   many racks as there are (Kafka's rule; a list where only some brokers have a rack is refused). {@code F} is
 *   <pre>{"version":1,"topics":[{"topic":"foo"}]}</pre></li>
 *   <li>{@code --execute --reassignment-json-file F}: prints the current assignment (to roll back with),
 *   then starts the moves; {@code --throttle B} first sets {@code leader/follower.replication.throttled.rate}
 *   on the brokers involved and {@code leader/follower.replication.throttled.replicas} on the topics.
 *   Refused while another reassignment runs unless {@code --additional}. {@code F} is
 *   <pre>{"version":1,"partitions":[{"topic":"foo","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}</pre>
 *   A {@code log_dirs} entry other than {@code "any"} names a log directory of that replica's broker: as Kafka's
 *   tool does, AlterReplicaLogDirs goes to each broker first for the replicas it has, and again after the
 *   reassignment started for those it creates (until {@code --timeout}); {@code --replica-alter-log-dirs-throttle}
 *   sets {@code replica.alter.log.dirs.io.max.bytes.per.second} on those brokers.</li>
 *   <li>{@code --verify --reassignment-json-file F}: prints each partition's status, and each named log
 *   directory move's (DescribeLogDirs: done, a future replica still copying, or no move); once no reassignment
 *   runs, clears the throttles (unless {@code --preserve-throttles}).</li>
 *   <li>{@code --cancel --reassignment-json-file F}: cancels those partitions' reassignments in progress.</li>
 *   <li>{@code --list}: the reassignments in progress.</li>
 * </ul>
 * Exit status: 0 on success; 1 for bad flags (with usage on stderr) or a failed action (its message on
 * stdout, as Kafka's tool prints it).
 */
@Command(name = "weir-reassign-partitions.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "Move partitions to other brokers, change their replication factor, and follow or cancel the moves.")
public final class ReassignPartitionsCommand {
    static final List<String> BROKER_THROTTLES = List.of("leader.replication.throttled.rate",
        "follower.replication.throttled.rate", "replica.alter.log.dirs.io.max.bytes.per.second");
    static final List<String> TOPIC_THROTTLES = List.of("leader.replication.throttled.replicas",
        "follower.replication.throttled.replicas");

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "REQUIRED: the broker(s) to connect to.")
    String bootstrapServer;
    @Option(names = "--command-config", paramLabel = "FILE", description = "Admin client properties file.")
    Path commandConfig;
    @Option(names = "--generate", description = "Propose an assignment of the topics in --topics-to-move-json-file to --broker-list.")
    boolean generate;
    @Option(names = "--execute", description = "Start the reassignment in --reassignment-json-file.")
    boolean execute;
    @Option(names = "--verify", description = "Show whether the reassignment in --reassignment-json-file completed; "
        + "clears the throttles once it has.")
    boolean verify;
    @Option(names = "--cancel", description = "Cancel the reassignments in progress of the partitions in --reassignment-json-file.")
    boolean cancel;
    @Option(names = "--list", description = "List the reassignments in progress.")
    boolean list;
    @Option(names = "--reassignment-json-file", paramLabel = "FILE", description = "The partitions and their target replicas.")
    Path reassignmentJsonFile;
    @Option(names = "--topics-to-move-json-file", paramLabel = "FILE", description = "The topics to move (--generate).")
    Path topicsToMoveJsonFile;
    @Option(names = "--broker-list", paramLabel = "0,1,2", description = "The brokers to move the topics to (--generate).")
    String brokerList;
    @Option(names = "--disable-rack-aware", description = "Ignore the brokers' broker.rack when proposing an assignment (--generate).")
    boolean disableRackAware;
    @Option(names = "--throttle", paramLabel = "BYTES_PER_SEC", defaultValue = "-1",
        description = "Throttle replication between brokers to this rate while the partitions move (--execute).")
    long throttle;
    @Option(names = "--replica-alter-log-dirs-throttle", paramLabel = "BYTES_PER_SEC", defaultValue = "-1",
        description = "Throttle the moves between log directories of a broker (log_dirs) to this rate (--execute).")
    long logDirThrottle;
    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "10000",
        description = "How long to wait for new replicas to exist before their log directory moves start (--execute).")
    long timeoutMs;
    @Option(names = "--additional", description = "Execute even though other reassignments are in progress.")
    boolean additional;
    @Option(names = "--preserve-throttles", description = "Do not change broker or topic throttles (--verify, --cancel).")
    boolean preserveThrottles;
    @Option(names = "--help", usageHelp = true, description = "Print usage information.")
    boolean help;

    /** An action's failure, printed as its message alone (Kafka's TerseException). */
    static final class CommandFailedException extends Exception {
        private static final long serialVersionUID = 1L;

        CommandFailedException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create));
    }

    /** Runs the command; returns the exit status. {@code adminFactory} is replaceable for tests. */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory) {
        ReassignPartitionsCommand cmd = new ReassignPartitionsCommand();
        CommandLine cl = new CommandLine(cmd);
        Integer exit = Cli.parse(cl, args, out, err, cmd::check);
        if (exit != null) {
            return exit;
        }
        Properties props = Cli.adminProperties(cmd.commandConfig, cmd.bootstrapServer, out, "Error: ");
        if (props == null) {
            return 1;
        }
        props.putIfAbsent("client.id", "reassign-partitions-tool");
        try (Admin admin = adminFactory.apply(props)) {
            if (cmd.generate) {
                cmd.generate(admin, out);
            } else if (cmd.execute) {
                cmd.execute(admin, out);
            } else if (cmd.verify) {
                cmd.verify(admin, out);
            } else if (cmd.cancel) {
                cmd.cancel(admin, out);
            } else {
                out.println(currentReassignments(admin));
            }
            return 0;
        } catch (CommandFailedException e) {
            out.println(e.getMessage());
            return 1;
        } catch (ExecutionException e) {
            out.println("Error: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (IOException | RuntimeException e) {
            out.println("Error: " + e.getMessage());
            return 1;
        }
    }

    /** Kafka's rules: exactly one action, and the options each action needs or allows. */
    private void check() throws UsageException {
        if (bootstrapServer == null || bootstrapServer.isBlank()) {
            throw new UsageException("Please specify --bootstrap-server");
        }
        int actions = (generate ? 1 : 0) + (execute ? 1 : 0) + (verify ? 1 : 0) + (cancel ? 1 : 0) + (list ? 1 : 0);
        if (actions != 1) {
            throw new UsageException("Command must include exactly one action: --execute, --cancel, --verify, "
                + "--generate, --list");
        }
        if ((execute || verify || cancel) && reassignmentJsonFile == null) {
            throw new UsageException("Missing required argument \"[reassignment-json-file]\"");
        }
        if (generate && (topicsToMoveJsonFile == null || brokerList == null)) {
            throw new UsageException("Missing required argument \"[topics-to-move-json-file]\" or \"[broker-list]\"");
        }
        if (!execute && (additional || throttle >= 0 || logDirThrottle >= 0)) {
            throw new UsageException("Options --additional, --throttle and --replica-alter-log-dirs-throttle"
                + " are only allowed with --execute");
        }
        if (!(verify || cancel) && preserveThrottles) {
            throw new UsageException("Option --preserve-throttles is only allowed with --verify or --cancel");
        }
        if (!generate && (topicsToMoveJsonFile != null || brokerList != null || disableRackAware)) {
            throw new UsageException("Options --topics-to-move-json-file, --broker-list and --disable-rack-aware"
                + " are only allowed with --generate");
        }
        if (!(execute || verify || cancel) && reassignmentJsonFile != null) {
            throw new UsageException("Option --reassignment-json-file is only allowed with --execute, --verify or --cancel");
        }
    }

    // ------------------------------------------------------------------ actions

    private void generate(Admin admin, PrintStream out)
        throws IOException, CommandFailedException, ExecutionException, InterruptedException {
        List<Integer> brokers = new ArrayList<>();
        for (String s : brokerList.split(",")) {
            brokers.add(Integer.parseInt(s.trim()));
        }
        Set<Integer> dupBrokers = duplicates(brokers);
        if (!dupBrokers.isEmpty()) {
            throw new CommandFailedException("Broker list contains duplicate entries: " + dupBrokers);
        }
        List<String> topics = parseTopicsJson(Files.readString(topicsToMoveJsonFile));
        Set<String> dupTopics = duplicates(topics);
        if (!dupTopics.isEmpty()) {
            throw new CommandFailedException("List of topics to reassign contains duplicate entries: " + dupTopics);
        }
        Map<Integer, String> racks = new TreeMap<>();
        for (Node n : admin.describeCluster().get().nodes()) {
            racks.put(n.id(), n.rack());
        }
        for (int b : brokers) {
            if (!racks.containsKey(b)) {
                throw new CommandFailedException("Unknown broker id " + b);
            }
        }
        Map<TopicPartition, List<Integer>> current = currentAssignment(admin, topics);
        Map<Integer, String> brokerRacks = new TreeMap<>();
        for (int b : brokers) {
            brokerRacks.put(b, disableRackAware ? null : racks.get(b));
        }
        Map<TopicPartition, List<Integer>> proposed = proposeAssignment(current, brokerRacks);
        out.printf("Current partition replica assignment%n%s%n%n", reassignmentJson(current));
        out.printf("Proposed partition reassignment configuration%n%s%n", reassignmentJson(proposed));
    }

    private void execute(Admin admin, PrintStream out)
        throws IOException, CommandFailedException, ExecutionException, InterruptedException {
        String plan = Files.readString(reassignmentJsonFile);
        Map<TopicPartition, List<Integer>> proposed = parseExecuteJson(plan);
        List<ReplicaDir> logDirMoves = parseLogDirs(plan);
        Map<TopicPartition, PartitionReassignment> ongoing = admin.listPartitionReassignments(null).get();
        if (!additional && !ongoing.isEmpty()) {
            throw new CommandFailedException("Cannot execute because there is an existing partition assignment.  Use "
                + "--additional to override this and create a new partition assignment in addition to the existing one."
                + " The --additional flag can also be used to change the throttle by resubmitting the current reassignment.");
        }
        Set<Integer> known = new TreeSet<>();
        for (Node n : admin.describeCluster().get().nodes()) {
            known.add(n.id());
        }
        for (List<Integer> replicas : proposed.values()) {
            for (int b : replicas) {
                if (!known.contains(b)) {
                    throw new CommandFailedException("Unknown broker id " + b);
                }
            }
        }
        Set<String> topics = new LinkedHashSet<>();
        proposed.keySet().forEach(tp -> topics.add(tp.topic()));
        Map<TopicPartition, List<Integer>> current = currentAssignment(admin, topics);
        Map<TopicPartition, List<Integer>> rollback = new TreeMap<>(BY_PARTITION);
        for (TopicPartition tp : proposed.keySet()) {
            List<Integer> now = current.get(tp);
            if (now == null) {
                throw new CommandFailedException("Topic " + tp.topic() + " not found (or it has no partition "
                    + tp.partition() + ")");
            }
            rollback.put(tp, now);
        }
        out.printf("Current partition replica assignment%n%n%s%n%nSave this to use as the --reassignment-json-file"
            + " option during rollback%n", reassignmentJson(rollback));
        if (throttle >= 0 || logDirThrottle >= 0) {
            out.println("Warning: You must run --verify periodically, until the reassignment completes, to ensure the"
                + " throttle is removed.");
        }
        if (throttle >= 0) {
            setThrottles(admin, ongoing, proposed, rollback);
            out.println("The inter-broker throttle limit was set to " + throttle + " B/s");
        }
        if (logDirThrottle >= 0) {
            Map<ConfigResource, Collection<AlterConfigOp>> configs = new LinkedHashMap<>();
            for (int b : new TreeSet<>(logDirMoves.stream().map(ReplicaDir::broker).toList())) {
                configs.put(new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(b)), List.of(new AlterConfigOp(
                    BROKER_THROTTLES.get(2), Long.toString(logDirThrottle), AlterConfigOp.OpType.SET)));
            }
            admin.incrementalAlterConfigs(configs).all().get();
            out.println("The replica-alter-dir throttle limit was set to " + logDirThrottle + " B/s");
        }
        // as Kafka's tool: the replicas already on their broker start moving now, new ones once the reassignment
        // has created them (retried until --timeout)
        List<ReplicaDir> notYetHosted = alterLogDirs(admin, logDirMoves);
        Map<TopicPartition, Optional<List<Integer>>> targets = new LinkedHashMap<>();
        proposed.forEach((tp, r) -> targets.put(tp, Optional.of(r)));
        Map<TopicPartition, Throwable> errors = failures(admin.alterPartitionReassignments(targets).values());
        if (!errors.isEmpty()) {
            throw new CommandFailedException(String.format("Error reassigning partition(s):%n%s", errors.entrySet().stream()
                .map(e -> e.getKey() + ": " + e.getValue().getMessage()).collect(Collectors.joining(System.lineSeparator()))));
        }
        out.printf("Successfully started partition reassignment%s for %s%n", proposed.size() == 1 ? "" : "s",
            proposed.keySet().stream().map(TopicPartition::toString).collect(Collectors.joining(",")));
        long deadlineMs = System.currentTimeMillis() + timeoutMs;
        while (!notYetHosted.isEmpty()) {
            if (System.currentTimeMillis() >= deadlineMs) {
                throw new CommandFailedException("Timed out before log directory replica assignment could be started for "
                    + notYetHosted.stream().map(ReplicaDir::replica).collect(Collectors.joining(", ")));
            }
            Thread.sleep(100);
            notYetHosted = alterLogDirs(admin, notYetHosted);
        }
        if (!logDirMoves.isEmpty()) {
            out.printf("Successfully started log directory move%s for: %s%n", logDirMoves.size() == 1 ? "" : "s",
                logDirMoves.stream().map(ReplicaDir::replica).collect(Collectors.joining(",")));
        }
    }

    /**
     * Sends AlterReplicaLogDirs to each broker for its replicas; returns those the broker does not host yet
     * (REPLICA_NOT_AVAILABLE).
     *
     * @throws CommandFailedException if a broker refused a move for another reason
     */
    private static List<ReplicaDir> alterLogDirs(Admin admin, List<ReplicaDir> moves)
        throws CommandFailedException, InterruptedException {
        Map<Integer, Map<TopicPartition, String>> byBroker = new TreeMap<>();
        for (ReplicaDir m : moves) {
            byBroker.computeIfAbsent(m.broker(), b -> new LinkedHashMap<>()).put(m.tp(), m.logDir());
        }
        List<ReplicaDir> notHosted = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (Map.Entry<Integer, Map<TopicPartition, String>> e : byBroker.entrySet()) {
            Map<TopicPartition, Throwable> failed = failures(admin.alterReplicaLogDirs(e.getKey(), e.getValue()).values());
            for (Map.Entry<TopicPartition, Throwable> f : failed.entrySet()) {
                ReplicaDir m = new ReplicaDir(f.getKey(), e.getKey(), e.getValue().get(f.getKey()));
                if (f.getValue() instanceof io.weir.protocol.ApiException api
                    && api.error() == io.weir.protocol.Errors.REPLICA_NOT_AVAILABLE) {
                    notHosted.add(m);
                } else {
                    errors.add(m.replica() + " to " + m.logDir() + ": " + f.getValue().getMessage());
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new CommandFailedException(String.format("Error moving replica(s) between log directories:%n%s",
                String.join(System.lineSeparator(), errors)));
        }
        return notHosted;
    }

    /**
     * Kafka's throttles: on each topic, its moving partitions' source replicas as leader-throttled and the new
     * replicas as follower-throttled ({@code partition:broker} lists); on every broker involved, both rates.
     */
    private void setThrottles(Admin admin, Map<TopicPartition, PartitionReassignment> ongoing,
                              Map<TopicPartition, List<Integer>> proposed, Map<TopicPartition, List<Integer>> current)
        throws ExecutionException, InterruptedException {
        Map<String, Set<String>> leader = new TreeMap<>();
        Map<String, Set<String>> follower = new TreeMap<>();
        Set<Integer> brokers = new TreeSet<>();
        Map<TopicPartition, List<Integer>> moves = new TreeMap<>(BY_PARTITION);
        ongoing.forEach((tp, r) -> {
            List<Integer> sources = new ArrayList<>(r.replicas());
            sources.removeAll(r.addingReplicas());
            addMove(tp, sources, r.addingReplicas(), leader, follower, brokers);
        });
        proposed.forEach((tp, target) -> {
            PartitionReassignment r = ongoing.get(tp);
            List<Integer> sources = new ArrayList<>(r != null ? r.replicas() : current.get(tp));
            if (r != null) {
                sources.removeAll(r.addingReplicas());
            }
            List<Integer> destinations = new ArrayList<>(target);
            destinations.removeAll(sources);
            addMove(tp, sources, destinations, leader, follower, brokers);
        });
        Map<ConfigResource, Collection<AlterConfigOp>> configs = new LinkedHashMap<>();
        Set<String> topics = new TreeSet<>(leader.keySet());
        topics.addAll(follower.keySet());
        for (String t : topics) {
            configs.put(new ConfigResource(ConfigResource.Type.TOPIC, t), List.of(
                new AlterConfigOp(TOPIC_THROTTLES.get(0), String.join(",", leader.getOrDefault(t, Set.of())),
                    AlterConfigOp.OpType.SET),
                new AlterConfigOp(TOPIC_THROTTLES.get(1), String.join(",", follower.getOrDefault(t, Set.of())),
                    AlterConfigOp.OpType.SET)));
        }
        for (int b : brokers) {
            configs.put(new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(b)), List.of(
                new AlterConfigOp(BROKER_THROTTLES.get(0), Long.toString(throttle), AlterConfigOp.OpType.SET),
                new AlterConfigOp(BROKER_THROTTLES.get(1), Long.toString(throttle), AlterConfigOp.OpType.SET)));
        }
        admin.incrementalAlterConfigs(configs).all().get();
    }

    private static void addMove(TopicPartition tp, List<Integer> sources, List<Integer> destinations,
                                Map<String, Set<String>> leader, Map<String, Set<String>> follower, Set<Integer> brokers) {
        Set<String> l = leader.computeIfAbsent(tp.topic(), k -> new TreeSet<>());
        Set<String> f = follower.computeIfAbsent(tp.topic(), k -> new TreeSet<>());
        sources.forEach(s -> l.add(tp.partition() + ":" + s));
        destinations.forEach(d -> f.add(tp.partition() + ":" + d));
        brokers.addAll(sources);
        brokers.addAll(destinations);
    }

    private void verify(Admin admin, PrintStream out)
        throws IOException, CommandFailedException, ExecutionException, InterruptedException {
        String plan = Files.readString(reassignmentJsonFile);
        Map<TopicPartition, List<Integer>> targets = parseReassignmentJson(plan);
        List<ReplicaDir> logDirMoves = parseLogDirs(plan);
        Map<TopicPartition, PartitionReassignment> ongoing = admin.listPartitionReassignments(null).get();
        Set<String> topics = new LinkedHashSet<>();
        targets.keySet().forEach(tp -> topics.add(tp.topic()));
        Map<TopicPartition, List<Integer>> current = currentAssignment(admin, topics);
        List<String> lines = new ArrayList<>();
        lines.add("Status of partition reassignment:");
        Map<TopicPartition, List<Integer>> sorted = new TreeMap<>(BY_PARTITION);
        sorted.putAll(targets);
        for (Map.Entry<TopicPartition, List<Integer>> e : sorted.entrySet()) {
            TopicPartition tp = e.getKey();
            if (ongoing.containsKey(tp)) {
                lines.add("Reassignment of partition " + tp + " is still in progress.");
            } else {
                List<Integer> now = current.getOrDefault(tp, List.of());
                if (now.equals(e.getValue())) {
                    lines.add("Reassignment of partition " + tp + " is completed.");
                } else {
                    lines.add("There is no active reassignment of partition " + tp + ", but replica set is "
                        + join(now) + " rather than " + join(e.getValue()) + ".");
                }
            }
        }
        out.println(String.join(System.lineSeparator(), lines));
        if (!logDirMoves.isEmpty()) {
            out.println();
            out.println(String.join(System.lineSeparator(), logDirMoveStatus(admin, logDirMoves)));
        }
        if (ongoing.isEmpty() && !preserveThrottles) {
            clearThrottles(admin, targets, out);
        }
    }

    /**
     * Where each replica of a plan's {@code log_dirs} is (DescribeLogDirs of its broker): in its target directory
     * (done), with a future replica there (the copy is under way), or elsewhere with no move.
     */
    private static List<String> logDirMoveStatus(Admin admin, List<ReplicaDir> moves)
        throws ExecutionException, InterruptedException {
        Set<Integer> brokers = new TreeSet<>(moves.stream().map(ReplicaDir::broker).toList());
        Map<Integer, Map<String, io.weir.admin.LogDirDescription>> described = new TreeMap<>();
        Map<Integer, java.util.concurrent.CompletableFuture<Map<String, io.weir.admin.LogDirDescription>>> fs =
            admin.describeLogDirs(brokers).values();
        for (Map.Entry<Integer, java.util.concurrent.CompletableFuture<Map<String, io.weir.admin.LogDirDescription>>> e
            : fs.entrySet()) {
            try {
                described.put(e.getKey(), e.getValue().get());
            } catch (ExecutionException ex) {
                described.put(e.getKey(), Map.of()); // a broker that cannot answer: its replicas are not found
            }
        }
        List<String> lines = new ArrayList<>();
        for (ReplicaDir m : moves) {
            String current = null;
            String future = null;
            for (Map.Entry<String, io.weir.admin.LogDirDescription> d : described.get(m.broker()).entrySet()) {
                io.weir.admin.ReplicaInfo r = d.getValue().replicaInfos().get(m.tp());
                if (r != null && r.isFuture()) {
                    future = d.getKey();
                } else if (r != null) {
                    current = d.getKey();
                }
            }
            if (current == null) {
                lines.add("Partition " + m.tp() + " cannot be found in any live log directory on broker " + m.broker() + ".");
            } else if (sameDir(current, m.logDir())) {
                lines.add("Reassignment of replica " + m.replica() + " completed successfully.");
            } else if (future != null && sameDir(future, m.logDir())) {
                lines.add("Reassignment of replica " + m.replica() + " is still in progress.");
            } else {
                lines.add("Partition " + m.tp().topic() + "-" + m.tp().partition() + " on broker " + m.broker()
                    + " is not being moved from log dir " + current + " to " + m.logDir() + ".");
            }
        }
        return lines;
    }

    private static boolean sameDir(String a, String b) {
        return java.nio.file.Paths.get(a).normalize().equals(java.nio.file.Paths.get(b).normalize());
    }

    private void cancel(Admin admin, PrintStream out)
        throws IOException, CommandFailedException, ExecutionException, InterruptedException {
        Map<TopicPartition, List<Integer>> targets = parseReassignmentJson(Files.readString(reassignmentJsonFile));
        Map<TopicPartition, PartitionReassignment> ongoing = admin.listPartitionReassignments(targets.keySet()).get();
        Set<TopicPartition> cancelling = new TreeSet<>(BY_PARTITION);
        cancelling.addAll(ongoing.keySet());
        if (cancelling.isEmpty()) {
            out.println("None of the specified partition reassignments are active.");
        } else {
            Map<TopicPartition, Optional<List<Integer>>> none = new LinkedHashMap<>();
            cancelling.forEach(tp -> none.put(tp, Optional.empty()));
            Map<TopicPartition, Throwable> errors = failures(admin.alterPartitionReassignments(none).values());
            if (!errors.isEmpty()) {
                throw new CommandFailedException(String.format("Error cancelling partition reassignment%s for:%n%s",
                    errors.size() == 1 ? "" : "s", errors.entrySet().stream().map(e -> e.getKey() + ": "
                        + e.getValue().getMessage()).collect(Collectors.joining(System.lineSeparator()))));
            }
            out.printf("Successfully cancelled partition reassignment%s for: %s%n", cancelling.size() == 1 ? "" : "s",
                cancelling.stream().map(TopicPartition::toString).collect(Collectors.joining(",")));
        }
        out.print("None of the specified partition moves are active.");
        out.println();
        if (!preserveThrottles) {
            clearThrottles(admin, targets, out);
        }
    }

    private static void clearThrottles(Admin admin, Map<TopicPartition, List<Integer>> targets, PrintStream out)
        throws ExecutionException, InterruptedException {
        Set<Integer> brokers = new TreeSet<>();
        for (Node n : admin.describeCluster().get().nodes()) {
            brokers.add(n.id());
        }
        targets.values().forEach(brokers::addAll);
        out.printf("Clearing broker-level throttles on broker%s %s%n", brokers.size() == 1 ? "" : "s", join(brokers));
        Map<ConfigResource, Collection<AlterConfigOp>> brokerOps = new LinkedHashMap<>();
        for (int b : brokers) {
            brokerOps.put(new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(b)), BROKER_THROTTLES.stream()
                .map(k -> new AlterConfigOp(k, null, AlterConfigOp.OpType.DELETE)).toList());
        }
        admin.incrementalAlterConfigs(brokerOps).all().get();
        Set<String> topics = new TreeSet<>();
        targets.keySet().forEach(tp -> topics.add(tp.topic()));
        out.printf("Clearing topic-level throttles on topic%s %s%n", topics.size() == 1 ? "" : "s", String.join(",", topics));
        Map<ConfigResource, Collection<AlterConfigOp>> topicOps = new LinkedHashMap<>();
        for (String t : topics) {
            topicOps.put(new ConfigResource(ConfigResource.Type.TOPIC, t), TOPIC_THROTTLES.stream()
                .map(k -> new AlterConfigOp(k, null, AlterConfigOp.OpType.DELETE)).toList());
        }
        admin.incrementalAlterConfigs(topicOps).all().get();
    }

    static String currentReassignments(Admin admin) throws ExecutionException, InterruptedException {
        Map<TopicPartition, PartitionReassignment> ongoing = new TreeMap<>(BY_PARTITION);
        ongoing.putAll(admin.listPartitionReassignments(null).get());
        if (ongoing.isEmpty()) {
            return "No partition reassignments found.";
        }
        List<String> lines = new ArrayList<>();
        ongoing.forEach((tp, r) -> lines.add(tp + ": replicas: " + join(r.replicas()) + "."
            + (r.addingReplicas().isEmpty() ? "" : " adding: " + join(r.addingReplicas()) + ".")
            + (r.removingReplicas().isEmpty() ? "" : " removing: " + join(r.removingReplicas()) + ".")));
        return "Current partition reassignments:" + System.lineSeparator() + String.join(System.lineSeparator(), lines);
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The proposed replicas of each partition of {@code current} (keeping its replica count) on the
     * brokers of {@code racks} (broker id to rack, null for none). Without racks: round robin over the
     * sorted ids, partition {@code p} taking {@code rf} consecutive brokers from index {@code p}. With
     * racks on every broker: the ids are ordered so consecutive ones alternate racks (rack a's first, rack
     * b's first, ..., rack a's second, ...); partition {@code p}'s leader is the {@code p}-th of that
     * order (leaders spread evenly over brokers and racks), and its followers are taken walking on from a
     * shift that grows with each round of partitions, skipping a broker whose rack already holds a
     * replica while some rack holds none, so replicas sit on {@code min(rf, racks)} racks. Deterministic,
     * so the same input proposes the same plan.
     *
     * @throws CommandFailedException if some brokers have a rack and others not, or {@code rf} is larger
     *     than the broker count
     */
    static Map<TopicPartition, List<Integer>> proposeAssignment(Map<TopicPartition, List<Integer>> current,
                                                               Map<Integer, String> racks) throws CommandFailedException {
        long withRack = racks.values().stream().filter(java.util.Objects::nonNull).count();
        if (withRack != 0 && withRack != racks.size()) {
            throw new CommandFailedException("Not all brokers have rack information. Add --disable-rack-aware in"
                + " command line to make replica assignment without rack information.");
        }
        List<Integer> order = new ArrayList<>();
        if (withRack == 0) {
            order.addAll(new TreeSet<>(racks.keySet()));
        } else {
            Map<String, List<Integer>> byRack = new TreeMap<>();
            for (Map.Entry<Integer, String> e : new TreeMap<>(racks).entrySet()) {
                byRack.computeIfAbsent(e.getValue(), r -> new ArrayList<>()).add(e.getKey());
            }
            for (int i = 0; order.size() < racks.size(); i++) {
                for (List<Integer> inRack : byRack.values()) {
                    if (i < inRack.size()) {
                        order.add(inRack.get(i));
                    }
                }
            }
        }
        int n = order.size();
        int rackCount = (int) racks.values().stream().filter(java.util.Objects::nonNull).distinct().count();
        Map<TopicPartition, List<Integer>> proposed = new TreeMap<>(BY_PARTITION);
        for (Map.Entry<TopicPartition, List<Integer>> e : current.entrySet()) {
            int rf = e.getValue().size();
            if (rf > n) {
                throw new CommandFailedException("Replication factor: " + rf + " larger than available brokers: " + n + ".");
            }
            int p = e.getKey().partition();
            List<Integer> replicas = new ArrayList<>(rf);
            if (withRack == 0) {
                for (int j = 0; j < rf; j++) {
                    replicas.add(order.get((p + j) % n));
                }
            } else {
                int leader = p % n;
                replicas.add(order.get(leader));
                Set<String> usedRacks = new java.util.HashSet<>();
                usedRacks.add(racks.get(order.get(leader)));
                int shift = n > 1 ? (p / n) % (n - 1) : 0;
                // two passes at most: the first skips a broker whose rack holds a replica while another
                // rack holds none (once every rack holds one, any broker will do); the second takes any
                for (int step = 0; replicas.size() < rf && step < 2 * n; step++) {
                    int b = order.get((leader + 1 + shift + step) % n);
                    String rack = racks.get(b);
                    boolean rackFree = !usedRacks.contains(rack) || usedRacks.size() == rackCount;
                    if (!replicas.contains(b) && (rackFree || step >= n)) {
                        replicas.add(b);
                        usedRacks.add(rack);
                    }
                }
            }
            proposed.put(e.getKey(), replicas);
        }
        return proposed;
    }

    static final Comparator<TopicPartition> BY_PARTITION =
        Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private static String join(Collection<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static <T> Set<T> duplicates(List<T> items) {
        Set<T> seen = new LinkedHashSet<>();
        Set<T> dups = new LinkedHashSet<>();
        for (T t : items) {
            if (!seen.add(t)) {
                dups.add(t);
            }
        }
        return dups;
    }

    private static <K> Map<K, Throwable> failures(Map<K, java.util.concurrent.CompletableFuture<Void>> futures)
        throws InterruptedException {
        Map<K, Throwable> errors = new LinkedHashMap<>();
        for (Map.Entry<K, java.util.concurrent.CompletableFuture<Void>> e : futures.entrySet()) {
            try {
                e.getValue().get();
            } catch (ExecutionException ex) {
                errors.put(e.getKey(), ex.getCause() != null ? ex.getCause() : ex);
            }
        }
        return errors;
    }

    /** The replicas of every partition of {@code topics}; a missing topic fails the action. */
    private static Map<TopicPartition, List<Integer>> currentAssignment(Admin admin, Collection<String> topics)
        throws ExecutionException, InterruptedException {
        Map<TopicPartition, List<Integer>> out = new TreeMap<>(BY_PARTITION);
        Map<String, TopicDescription> described = admin.describeTopics(new ArrayList<>(new LinkedHashSet<>(topics))).all().get();
        for (TopicDescription d : described.values()) {
            for (TopicPartitionInfo p : d.partitions()) {
                out.put(new TopicPartition(d.name(), p.partition()), p.replicas().stream().map(Node::id).toList());
            }
        }
        return out;
    }

    /** Kafka's reassignment JSON, with {@code "any"} log dirs. */
    static String reassignmentJson(Map<TopicPartition, List<Integer>> assignment) {
        List<Object> partitions = new ArrayList<>();
        Map<TopicPartition, List<Integer>> sorted = new TreeMap<>(BY_PARTITION);
        sorted.putAll(assignment);
        sorted.forEach((tp, replicas) -> {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("topic", tp.topic());
            p.put("partition", tp.partition());
            p.put("replicas", replicas);
            p.put("log_dirs", replicas.stream().map(r -> "any").toList());
            partitions.add(p);
        });
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("partitions", partitions);
        return Json.write(json);
    }

    static List<String> parseTopicsJson(String text) throws CommandFailedException {
        Object parsed = Json.parse(text);
        if (!(parsed instanceof Map<?, ?> m) || !(m.get("topics") instanceof List<?> topics)) {
            throw new CommandFailedException("Invalid topics JSON: expected {\"version\":1,\"topics\":[{\"topic\":\"foo\"}]}");
        }
        List<String> out = new ArrayList<>();
        for (Object o : topics) {
            if (!(o instanceof Map<?, ?> t) || !(t.get("topic") instanceof String name)) {
                throw new CommandFailedException("Invalid topics JSON: every entry needs a \"topic\"");
            }
            out.add(name);
        }
        return out;
    }

    /** The partitions and target replicas of a reassignment file, in file order (duplicates kept for checks). */
    static List<Map.Entry<TopicPartition, List<Integer>>> parsePartitions(String text) throws CommandFailedException {
        Object parsed = Json.parse(text);
        if (!(parsed instanceof Map<?, ?> m) || !(m.get("partitions") instanceof List<?> parts)) {
            throw new CommandFailedException("Invalid reassignment JSON: expected {\"version\":1,\"partitions\":"
                + "[{\"topic\":\"foo\",\"partition\":0,\"replicas\":[1,2]}]}");
        }
        List<Map.Entry<TopicPartition, List<Integer>>> out = new ArrayList<>();
        for (Object o : parts) {
            if (!(o instanceof Map<?, ?> p) || !(p.get("topic") instanceof String topic)
                || !(p.get("partition") instanceof Number partition) || !(p.get("replicas") instanceof List<?> replicas)) {
                throw new CommandFailedException("Invalid reassignment JSON: every partition needs \"topic\", "
                    + "\"partition\" and \"replicas\"");
            }
            List<Integer> ids = new ArrayList<>();
            for (Object r : replicas) {
                if (!(r instanceof Number n)) {
                    throw new CommandFailedException("Invalid reassignment JSON: replicas must be broker ids");
                }
                ids.add(n.intValue());
            }
            if (p.get("log_dirs") instanceof List<?> dirs) {
                if (dirs.size() != ids.size()) {
                    throw new CommandFailedException("Size of replicas list " + ids + " is different from size of "
                        + "log dirs list " + dirs + " for partition " + topic + "-" + partition.intValue());
                }
                for (Object d : dirs) {
                    if (!(d instanceof String)) {
                        throw new CommandFailedException("Invalid reassignment JSON: log_dirs must be paths or \"any\"");
                    }
                }
            }
            out.add(Map.entry(new TopicPartition(topic, partition.intValue()), ids));
        }
        return out;
    }

    /** A replica moved to a log directory of its broker by a plan's {@code log_dirs} (Kafka's {@code TopicPartitionReplica}). */
    record ReplicaDir(TopicPartition tp, int broker, String logDir) {
        /** Kafka's {@code TopicPartitionReplica} string: broker-topic-partition. */
        String replica() {
            return broker + "-" + tp.topic() + "-" + tp.partition();
        }
    }

    /** The replicas a reassignment file places in a named log directory (its {@code log_dirs} other than "any"). */
    static List<ReplicaDir> parseLogDirs(String text) throws CommandFailedException {
        parsePartitions(text); // validates
        List<ReplicaDir> out = new ArrayList<>();
        for (Object o : (List<?>) ((Map<?, ?>) Json.parse(text)).get("partitions")) {
            Map<?, ?> p = (Map<?, ?>) o;
            if (!(p.get("log_dirs") instanceof List<?> dirs)) {
                continue;
            }
            List<?> replicas = (List<?>) p.get("replicas");
            TopicPartition tp = new TopicPartition((String) p.get("topic"), ((Number) p.get("partition")).intValue());
            for (int i = 0; i < dirs.size(); i++) {
                if (!"any".equals(dirs.get(i))) {
                    out.add(new ReplicaDir(tp, ((Number) replicas.get(i)).intValue(), (String) dirs.get(i)));
                }
            }
        }
        return out;
    }

    static Map<TopicPartition, List<Integer>> parseReassignmentJson(String text) throws CommandFailedException {
        Map<TopicPartition, List<Integer>> out = new LinkedHashMap<>();
        parsePartitions(text).forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** {@link #parseReassignmentJson} with Kafka's checks for --execute. */
    static Map<TopicPartition, List<Integer>> parseExecuteJson(String text) throws CommandFailedException {
        List<Map.Entry<TopicPartition, List<Integer>>> parts = parsePartitions(text);
        if (parts.isEmpty()) {
            throw new CommandFailedException("Partition reassignment list cannot be empty");
        }
        if (parts.stream().anyMatch(e -> e.getValue().isEmpty())) {
            throw new CommandFailedException("Partition replica list cannot be empty");
        }
        Set<TopicPartition> dupParts = duplicates(parts.stream().map(Map.Entry::getKey).toList());
        if (!dupParts.isEmpty()) {
            throw new CommandFailedException("Partition reassignment contains duplicate topic partitions: "
                + dupParts.stream().map(TopicPartition::toString).collect(Collectors.joining(",")));
        }
        List<String> dupReplicas = new ArrayList<>();
        for (Map.Entry<TopicPartition, List<Integer>> e : parts) {
            Set<Integer> d = duplicates(e.getValue());
            if (!d.isEmpty()) {
                dupReplicas.add(e.getKey() + " contains multiple entries for " + join(d));
            }
        }
        if (!dupReplicas.isEmpty()) {
            throw new CommandFailedException("Partition replica lists may not contain duplicate entries: "
                + String.join(". ", dupReplicas));
        }
        Map<TopicPartition, List<Integer>> out = new TreeMap<>(BY_PARTITION);
        parts.forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }
}
