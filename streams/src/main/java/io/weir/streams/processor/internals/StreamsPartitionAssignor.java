package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.common.utils.ByteBufferOutputStream;
import io.weir.consumer.ConsumerProtocol;
import io.weir.consumer.internals.PartitionAssignor;
import io.weir.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The streams assignor, plugged into each stream thread's consumer (protocol name {@code "weir-streams"}).
 * It assigns tasks, not bare partitions: task {@code <subtopology>_<p>} is partition {@code p} of every source
 * topic of the sub-topology, so co-partitioned topics stay together.
 *
 * <p>Each member's subscription userData carries its process id (members with the same id are the threads of
 * one instance, a "client"), its {@code application.server}, the active and standby tasks of its last
 * assignment, the task directories in its state directory (with the summed changelog offsets it knows of), and
 * how many follow-up rebalances it asked for (see {@link #requestFollowUpRebalance}) and its client tags.
 * The leader:
 * <ol>
 * <li>spreads active tasks over clients in proportion to their threads, keeping each task on the client that
 * had it (sticky) while that client is under its quota, else preferring a client holding the task's state
 * (a standby, then a local task directory with the highest offsets), else the least loaded client;</li>
 * <li>places {@code num.standby.replicas} standby copies of each task that has state on other clients (a
 * client never holds a task twice), preferring clients whose {@code client.tag.*} values differ from the task's
 * other copies in the {@code rack.aware.assignment.tags} (KIP-708), then clients that already hold its state;</li>
 * <li>splits each client's tasks over its threads, keeping a task on the thread that ran it or kept its
 * standby (so a promoted standby opens its store in the thread that had it open);</li>
 * <li>cooperative (KIP-429, the default): holds back each task whose partitions another member still owns (the
 * subscription's {@code ownedPartitions}): its owner revokes it and rejoins, and the follow-up round hands it over
 * (see {@code holdBackOwnedMoves}).</li>
 * </ol>
 * Every member's assignment userData carries its active and standby tasks, which host (by
 * {@code application.server}) holds which partitions actively and as standby, the source topics' partition
 * counts (for {@code queryMetadataForKey}), and an error code ({@link #ERROR_SHUTDOWN_APPLICATION} asks every
 * instance to shut down).
 *
 * <p>Thread-safe: the consumer calls it on the stream thread; {@code WeirStreams} reads the last assignment
 * from application threads.
 */
public final class StreamsPartitionAssignor implements PartitionAssignor {
    private static final Logger log = LoggerFactory.getLogger(StreamsPartitionAssignor.class);
    /** The protocol name members agree on in JoinGroup. */
    public static final String NAME = "weir-streams";
    private static final short VERSION = 1;
    /** Assignment error code: none. */
    public static final int ERROR_NONE = 0;
    /** Assignment error code: an instance's exception handler asked the whole application to shut down. */
    public static final int ERROR_SHUTDOWN_APPLICATION = 1;

    /** What a member reports: who it is and what state it holds. */
    public record MemberInfo(String processId, String host, Set<TaskId> prevActive, Set<TaskId> prevStandby,
                             Map<TaskId, Long> localTasks, int errorCode, int followUpRequests,
                             Map<String, String> clientTags) {
        public MemberInfo(String processId, String host, Set<TaskId> prevActive, Set<TaskId> prevStandby,
                          Map<TaskId, Long> localTasks, int errorCode) {
            this(processId, host, prevActive, prevStandby, localTasks, errorCode, 0, Map.of());
        }

        public MemberInfo(String processId, String host, Set<TaskId> prevActive, Set<TaskId> prevStandby,
                          Map<TaskId, Long> localTasks, int errorCode, int followUpRequests) {
            this(processId, host, prevActive, prevStandby, localTasks, errorCode, followUpRequests, Map.of());
        }
    }

    /**
     * How this member rebalances and where standbys go: {@code cooperative} (Kafka Streams' default since 2.4; false
     * only for {@code upgrade.from} an older version) makes the assignor offer the COOPERATIVE protocol of KIP-429, and
     * {@code rackAwareTags} ({@code rack.aware.assignment.tags}, KIP-708) names the keys of the {@code clientTags}
     * ({@code client.tag.<key>}) by which standbys are spread away from their active task.
     */
    public record Options(boolean cooperative, List<String> rackAwareTags, Map<String, String> clientTags) {
        /** Kafka's defaults: cooperative, no rack awareness. */
        public static final Options DEFAULT = new Options(true, List.of(), Map.of());

        public Options {
            rackAwareTags = List.copyOf(rackAwareTags);
            clientTags = Map.copyOf(clientTags);
        }
    }

    /** What a member learns from a rebalance (its own tasks and the group's hosts). */
    public record AssignmentInfo(int errorCode, Set<TaskId> activeTasks, Set<TaskId> standbyTasks,
                                 Map<String, Set<TopicPartition>> activeHosts, Map<String, Set<TopicPartition>> standbyHosts,
                                 Map<String, Integer> partitionCounts, int generation, boolean probingRebalanceNeeded) {
        /** Before the first rebalance. */
        public static final AssignmentInfo NONE = new AssignmentInfo(ERROR_NONE, Set.of(), Set.of(), Map.of(), Map.of(),
            Map.of(), -1, false);
    }

    /** Kafka Streams' default {@code acceptable.recovery.lag}. */
    public static final long DEFAULT_ACCEPTABLE_RECOVERY_LAG = 10_000;
    /** Kafka Streams' default {@code max.warmup.replicas}. */
    public static final int DEFAULT_MAX_WARMUP_REPLICAS = 2;

    private final String processId;
    private final String host;
    private final Map<Integer, List<String>> sourceTopicsBySubtopology;
    private final Set<Integer> statefulSubtopologies;
    private final int numStandbyReplicas;
    private final long acceptableRecoveryLag;
    private final int maxWarmupReplicas;
    private final Supplier<Map<TaskId, Long>> localTasks;
    private final Options options;
    private volatile AssignmentInfo last = AssignmentInfo.NONE;
    private volatile int requestedError = ERROR_NONE;
    private volatile boolean rebalancing;
    private volatile Runnable onRebalanceStart;
    /** How many follow-up rebalances this member asked for; in its subscription, so each request changes it. */
    private final java.util.concurrent.atomic.AtomicInteger followUpRequests = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param sourceTopicsBySubtopology the (resolved) source topics of every sub-topology
     * @param statefulSubtopologies     the sub-topologies with logged stores (only their tasks get standbys)
     * @param localTasks                the task directories of this instance with their known changelog offset
     *                                  sums (-1 when unknown), read at each join
     */
    public StreamsPartitionAssignor(String processId, String host, Map<Integer, List<String>> sourceTopicsBySubtopology,
                                    Set<Integer> statefulSubtopologies, int numStandbyReplicas,
                                    Supplier<Map<TaskId, Long>> localTasks) {
        this(processId, host, sourceTopicsBySubtopology, statefulSubtopologies, numStandbyReplicas,
            DEFAULT_ACCEPTABLE_RECOVERY_LAG, DEFAULT_MAX_WARMUP_REPLICAS, localTasks);
    }

    /**
     * @param acceptableRecoveryLag a stateful task moves to an instance only if that instance's copy of its state is
     *                              within this many changelog offsets of the current owner's; otherwise it stays and the
     *                              instance gets a warm-up replica (a standby) first
     * @param maxWarmupReplicas     how many warm-up replicas one assignment may place (0: tasks move at once)
     */
    public StreamsPartitionAssignor(String processId, String host, Map<Integer, List<String>> sourceTopicsBySubtopology,
                                    Set<Integer> statefulSubtopologies, int numStandbyReplicas, long acceptableRecoveryLag,
                                    int maxWarmupReplicas, Supplier<Map<TaskId, Long>> localTasks) {
        this(processId, host, sourceTopicsBySubtopology, statefulSubtopologies, numStandbyReplicas, acceptableRecoveryLag,
            maxWarmupReplicas, localTasks, Options.DEFAULT);
    }

    /** @param options the rebalance protocol and rack-aware standby placement (see {@link Options}) */
    public StreamsPartitionAssignor(String processId, String host, Map<Integer, List<String>> sourceTopicsBySubtopology,
                                    Set<Integer> statefulSubtopologies, int numStandbyReplicas, long acceptableRecoveryLag,
                                    int maxWarmupReplicas, Supplier<Map<TaskId, Long>> localTasks, Options options) {
        this.options = options;
        this.acceptableRecoveryLag = acceptableRecoveryLag;
        this.maxWarmupReplicas = maxWarmupReplicas;
        this.processId = processId;
        this.host = host;
        this.sourceTopicsBySubtopology = Map.copyOf(sourceTopicsBySubtopology);
        this.statefulSubtopologies = Set.copyOf(statefulSubtopologies);
        this.numStandbyReplicas = numStandbyReplicas;
        this.localTasks = localTasks;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<RebalanceProtocol> supportedProtocols() {
        return options.cooperative() ? List.of(RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER)
            : List.of(RebalanceProtocol.EAGER);
    }

    /** The last assignment this member received. */
    public AssignmentInfo lastAssignment() {
        return last;
    }

    /** Makes this member ask, at its next join, that every instance of the application shut down. */
    public void requestShutdownApplication() {
        requestedError = ERROR_SHUTDOWN_APPLICATION;
    }

    /**
     * Marks this member's next join as a request for a rebalance (a probing rebalance, or another look once topics
     * exist); call it before {@code enforceRebalance()}. The coordinator answers a static follower that rejoins a
     * stable group with the subscription it already has by handing back the current assignment (KIP-345's rule:
     * nothing the assignment depends on changed), so without this a follower's probing join could never move the
     * warm-up tasks it caught up; the count carried in the subscription makes every such join a changed one.
     */
    public void requestFollowUpRebalance() {
        followUpRequests.incrementAndGet();
    }

    @Override
    public ByteBuffer subscriptionUserData(int generation) {
        AssignmentInfo a = last;
        rebalancing = true;   // the consumer is joining: until the assignment arrives, its generation is on the way out
        Runnable hook = onRebalanceStart;
        if (hook != null) {
            hook.run();
        }
        return encodeSubscription(new MemberInfo(processId, host, a.activeTasks(), a.standbyTasks(), localTasks.get(),
            requestedError, followUpRequests.get(), options.clientTags()));
    }

    @Override
    public void onAssignment(ConsumerProtocol.Assignment assignment, int generation) {
        AssignmentInfo info = assignment.userData() == null ? AssignmentInfo.NONE : decodeAssignment(assignment.userData(), generation);
        last = info;
        rebalancing = false;
    }

    /**
     * Whether this member is in a rebalance: from building its JoinGroup subscription until its assignment arrives.
     * A cooperative member goes on processing its tasks meanwhile, but does not commit: the group is about to move to
     * a new generation, and the coordinator refuses offsets of the old one once every member has joined
     * (Kafka Streams skips its commits during a rebalance for the same reason).
     */
    public boolean rebalanceInProgress() {
        return rebalancing;
    }

    /**
     * Runs {@code hook} on the polling thread each time this member starts to join (before its JoinGroup goes out):
     * the stream thread leaves RUNNING then, so that its instance reads RUNNING again only once the new assignment's
     * tasks are in place (as under an eager rebalance, which revokes everything first).
     */
    public void onRebalanceStart(Runnable hook) {
        this.onRebalanceStart = hook;
    }

    @Override
    public Map<String, List<TopicPartition>> assign(Map<String, Integer> partitionsPerTopic,
                                                    Map<String, ConsumerProtocol.Subscription> subscriptions) {
        Map<String, List<TopicPartition>> out = new LinkedHashMap<>();
        assignWithUserData(partitionsPerTopic, subscriptions).forEach((m, a) -> out.put(m, a.partitions()));
        return out;
    }

    @Override
    public Map<String, ConsumerProtocol.Assignment> assignWithUserData(Map<String, Integer> partitionsPerTopic,
                                                                      Map<String, ConsumerProtocol.Subscription> subscriptions) {
        Map<String, MemberInfo> members = new TreeMap<>();
        int error = ERROR_NONE;
        for (Map.Entry<String, ConsumerProtocol.Subscription> e : subscriptions.entrySet()) {
            MemberInfo info = decodeSubscription(e.getValue().userData(), e.getKey());
            members.put(e.getKey(), info);
            error = Math.max(error, info.errorCode());
        }
        // the tasks and their partitions
        Map<TaskId, List<TopicPartition>> tasks = new TreeMap<>();
        Map<String, Integer> sourceCounts = new TreeMap<>();
        for (Map.Entry<Integer, List<String>> e : new TreeMap<>(sourceTopicsBySubtopology).entrySet()) {
            int max = 0;
            for (String t : e.getValue()) {
                Integer n = partitionsPerTopic.get(t);
                if (n != null) {
                    max = Math.max(max, n);
                    sourceCounts.put(t, n);
                }
            }
            for (int p = 0; p < max; p++) {
                List<TopicPartition> parts = new ArrayList<>();
                for (String t : e.getValue()) {
                    Integer n = partitionsPerTopic.get(t);
                    if (n != null && p < n) {
                        parts.add(new TopicPartition(t, p));
                    }
                }
                tasks.put(new TaskId(e.getKey(), p), parts);
            }
        }
        Map<String, List<String>> membersByClient = new TreeMap<>();
        members.forEach((m, info) -> membersByClient.computeIfAbsent(info.processId(), k -> new ArrayList<>()).add(m));
        Map<String, Set<TaskId>> activeByClient = emptyByClient(membersByClient);
        if (error == ERROR_NONE) {
            // sub-topology by sub-topology: each one's tasks are balanced on their own (its load differs from others')
            Map<Integer, Set<TaskId>> bySub = new TreeMap<>();
            tasks.keySet().forEach(t -> bySub.computeIfAbsent(t.subtopology(), k -> new TreeSet<>()).add(t));
            for (Set<TaskId> subTasks : bySub.values()) {
                assignActive(subTasks, members, membersByClient, activeByClient);
            }
        }
        Map<String, Set<TaskId>> warmups = emptyByClient(membersByClient);
        boolean probing = error == ERROR_NONE && holdBackUnwarmedMoves(members, membersByClient, activeByClient, warmups);
        Map<String, Set<TaskId>> standbyByClient = error == ERROR_NONE
            ? assignStandby(tasks.keySet(), members, membersByClient, activeByClient) : emptyByClient(membersByClient);
        warmups.forEach((c, ts) -> standbyByClient.get(c).addAll(ts));
        Map<String, Set<TaskId>> activeByMember = new TreeMap<>();
        Map<String, Set<TaskId>> standbyByMember = new TreeMap<>();
        for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
            splitOverThreads(c.getValue(), members, activeByClient.get(c.getKey()), standbyByClient.get(c.getKey()),
                activeByMember, standbyByMember);
        }
        Set<TaskId> pending = holdBackOwnedMoves(tasks, subscriptions, members, activeByMember, standbyByMember);
        Map<String, Set<TopicPartition>> activeHosts = new TreeMap<>();
        Map<String, Set<TopicPartition>> standbyHosts = new TreeMap<>();
        for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
            String h = members.get(c.getValue().get(0)).host();
            if (h == null) {
                continue;
            }
            Set<TopicPartition> act = activeHosts.computeIfAbsent(h, k -> new TreeSet<>(PARTITION_ORDER));
            Set<TopicPartition> stb = standbyHosts.computeIfAbsent(h, k -> new TreeSet<>(PARTITION_ORDER));
            for (String m : c.getValue()) {
                activeByMember.get(m).forEach(t -> act.addAll(tasks.get(t)));
                standbyByMember.get(m).forEach(t -> stb.addAll(tasks.get(t)));
            }
        }
        Map<String, ConsumerProtocol.Assignment> out = new LinkedHashMap<>();
        for (String m : members.keySet()) {
            Set<TaskId> active = activeByMember.getOrDefault(m, Set.of());
            Set<TaskId> standby = standbyByMember.getOrDefault(m, Set.of());
            List<TopicPartition> parts = new ArrayList<>();
            active.forEach(t -> parts.addAll(tasks.get(t)));
            AssignmentInfo info = new AssignmentInfo(error, active, standby, activeHosts, standbyHosts, sourceCounts, -1,
                probing);
            out.put(m, new ConsumerProtocol.Assignment(parts, encodeAssignment(info)));
        }
        log.info("Streams assignment: clients {}, active {}, standby {}{}{}", membersByClient.keySet(), activeByMember,
            standbyByMember, pending.isEmpty() ? "" : "; moving after their owners revoke them: " + pending,
            error == ERROR_NONE ? "" : " (error code " + error + ": the application shuts down)");
        return out;
    }

    /**
     * The cooperative half of the assignment (KIP-429): a task that another member of this round still owns (its
     * partitions are among that member's {@code ownedPartitions}) is not given to its new member yet. Its owner,
     * not assigned it either, revokes it (commits, closes the task) and rejoins at once; the follow-up round then gives
     * it to the new member. So the new owner never fetches before the old one's last commit, and every other task
     * stays where it runs. A stateful task's new member gets it as a standby meanwhile (its store starts catching up,
     * and the follow-up round prefers that member) unless the owner is a thread of the same instance, whose store
     * directory it is. Members of an eager rebalance own nothing here (they revoked everything before joining), so
     * nothing is held back. Returns the tasks held back.
     */
    private Set<TaskId> holdBackOwnedMoves(Map<TaskId, List<TopicPartition>> tasks,
                                           Map<String, ConsumerProtocol.Subscription> subscriptions,
                                           Map<String, MemberInfo> members, Map<String, Set<TaskId>> activeByMember,
                                           Map<String, Set<TaskId>> standbyByMember) {
        Map<TopicPartition, TaskId> taskOf = new HashMap<>();
        tasks.forEach((t, parts) -> parts.forEach(tp -> taskOf.put(tp, t)));
        // the owner of each task: the claim of the newest generation; two claims at one generation cancel out
        Map<TaskId, String> owner = new HashMap<>();
        Map<TaskId, Integer> ownerGeneration = new HashMap<>();
        Set<TaskId> disputed = new HashSet<>();
        for (Map.Entry<String, ConsumerProtocol.Subscription> e : new TreeMap<>(subscriptions).entrySet()) {
            int gen = e.getValue().generationId();
            Set<TaskId> claimed = new TreeSet<>();
            for (TopicPartition tp : e.getValue().ownedPartitions()) {
                TaskId t = taskOf.get(tp);
                if (t != null) {
                    claimed.add(t);
                }
            }
            for (TaskId t : claimed) {
                Integer g = ownerGeneration.get(t);
                if (g == null || gen > g) {
                    owner.put(t, e.getKey());
                    ownerGeneration.put(t, gen);
                    disputed.remove(t);
                } else if (g == gen) {
                    disputed.add(t);
                }
            }
        }
        disputed.forEach(owner::remove);
        Set<TaskId> pending = new TreeSet<>();
        for (Map.Entry<String, Set<TaskId>> e : activeByMember.entrySet()) {
            String m = e.getKey();
            for (TaskId t : List.copyOf(e.getValue())) {
                String o = owner.get(t);
                if (o == null || o.equals(m)) {
                    continue;
                }
                e.getValue().remove(t);
                pending.add(t);
                boolean sameInstance = members.get(o).processId().equals(members.get(m).processId());
                if (!sameInstance && statefulSubtopologies.contains(t.subtopology())) {
                    boolean standbyElsewhereOnInstance = members.entrySet().stream()
                        .anyMatch(x -> !x.getKey().equals(m) && x.getValue().processId().equals(members.get(m).processId())
                            && standbyByMember.getOrDefault(x.getKey(), Set.of()).contains(t));
                    if (!standbyElsewhereOnInstance) {
                        standbyByMember.get(m).add(t);
                    }
                }
            }
        }
        return pending;
    }

    private static Map<String, Set<TaskId>> emptyByClient(Map<String, List<String>> membersByClient) {
        Map<String, Set<TaskId>> out = new TreeMap<>();
        membersByClient.keySet().forEach(c -> out.put(c, new TreeSet<>()));
        return out;
    }

    /** Adds the tasks (of one sub-topology) to {@code total}: sticky, in proportion to the clients' threads. */
    private static void assignActive(Set<TaskId> tasks, Map<String, MemberInfo> members,
                                     Map<String, List<String>> membersByClient, Map<String, Set<TaskId>> total) {
        Map<String, Set<TaskId>> out = emptyByClient(membersByClient);
        int totalThreads = members.size();
        if (totalThreads == 0) {
            return;
        }
        // each client gets floor(its share); the remainder goes one extra task each to as many clients
        Map<String, Integer> floor = new HashMap<>();
        int assignedByFloor = 0;
        for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
            int f = tasks.size() * c.getValue().size() / totalThreads;
            floor.put(c.getKey(), f);
            assignedByFloor += f;
        }
        int[] extras = {tasks.size() - assignedByFloor};
        java.util.function.Predicate<String> canTake = c -> out.get(c).size() < floor.get(c)
            || out.get(c).size() == floor.get(c) && extras[0] > 0;
        java.util.function.BiConsumer<String, TaskId> take = (c, t) -> {
            if (out.get(c).size() >= floor.get(c)) {
                extras[0]--;
            }
            out.get(c).add(t);
            total.get(c).add(t);
        };
        Map<TaskId, String> previous = new HashMap<>();
        for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
            for (String m : c.getValue()) {
                members.get(m).prevActive().forEach(t -> previous.putIfAbsent(t, c.getKey()));
            }
        }
        // a previous owner over its share keeps first the tasks no other client holds state for, and gives up
        // those another client does hold (a returning instance's own stores), so they need no warm-up there
        List<TaskId> stickyOrder = new ArrayList<>(tasks);
        Map<TaskId, Long> stateElsewhere = new HashMap<>();
        for (TaskId t : tasks) {
            long best = 0;
            for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
                if (!c.getKey().equals(previous.get(t))) {
                    best = Math.max(best, stateScore(t, c.getValue(), members));
                }
            }
            stateElsewhere.put(t, best);
        }
        stickyOrder.sort(Comparator.comparingLong((TaskId t) -> stateElsewhere.get(t)).thenComparing(t -> t));
        List<TaskId> unassigned = new ArrayList<>();
        for (TaskId t : stickyOrder) {
            String c = previous.get(t);
            if (c != null && out.get(c).size() < floor.get(c)) {
                take.accept(c, t);
            } else {
                unassigned.add(t);
            }
        }
        // previous owners at their floor keep one more while extras last
        for (java.util.Iterator<TaskId> it = unassigned.iterator(); it.hasNext(); ) {
            TaskId t = it.next();
            String c = previous.get(t);
            if (c != null && canTake.test(c)) {
                take.accept(c, t);
                it.remove();
            }
        }
        for (TaskId t : unassigned) {
            String best = null;
            long bestScore = 0;
            boolean bestUnderFloor = false;
            for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
                if (!canTake.test(c.getKey())) {
                    continue;
                }
                boolean underFloor = out.get(c.getKey()).size() < floor.get(c.getKey());
                long score = stateScore(t, c.getValue(), members);
                // a client below its floor first, then the one holding most of the task's state, then the least loaded
                boolean better = best == null || underFloor && !bestUnderFloor
                    || underFloor == bestUnderFloor && (score > bestScore || score == bestScore
                    && load(total, c.getKey(), membersByClient) < load(total, best, membersByClient));
                if (better) {
                    best = c.getKey();
                    bestScore = score;
                    bestUnderFloor = underFloor;
                }
            }
            take.accept(best, t);   // floors plus extras add up to the task count: some client can always take it
        }
        out.forEach((c, ts) -> total.get(c).addAll(ts));
    }

    /** How much of the task's state a client holds: a standby beats a local directory; more offsets beat fewer. */
    private static long stateScore(TaskId t, List<String> clientMembers, Map<String, MemberInfo> members) {
        long score = 0;
        for (String m : clientMembers) {
            MemberInfo info = members.get(m);
            if (info.prevStandby().contains(t)) {
                score = Math.max(score, Long.MAX_VALUE / 2);
            }
            Long offsets = info.localTasks().get(t);
            if (offsets != null) {
                score = Math.max(score, 1 + Math.max(0, Math.min(offsets, Long.MAX_VALUE / 4)));
            }
        }
        return score;
    }

    private static double load(Map<String, Set<TaskId>> byClient, String client, Map<String, List<String>> membersByClient) {
        return byClient.get(client).size() / (double) membersByClient.get(client).size();
    }

    /**
     * Warm-up: a stateful task whose new instance's copy of its state lags its previous (still present) owner's by
     * more than {@code acceptableRecoveryLag} goes back to that owner, and the new instance gets it as a warm-up
     * standby (at most {@code maxWarmupReplicas} of them) that catches up from the changelog; a later probing
     * rebalance moves the task once its copy is caught up, so the move restores only a short tail. Returns whether
     * some task was held back (the members then ask for a probing rebalance).
     */
    private boolean holdBackUnwarmedMoves(Map<String, MemberInfo> members, Map<String, List<String>> membersByClient,
                                          Map<String, Set<TaskId>> activeByClient, Map<String, Set<TaskId>> warmups) {
        Map<TaskId, String> previous = new HashMap<>();
        for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
            for (String m : c.getValue()) {
                members.get(m).prevActive().forEach(t -> previous.putIfAbsent(t, c.getKey()));
            }
        }
        boolean heldBack = false;
        int warmupsLeft = maxWarmupReplicas;
        for (Map.Entry<String, Set<TaskId>> c : activeByClient.entrySet()) {
            for (TaskId t : List.copyOf(c.getValue())) {
                String owner = previous.get(t);
                if (owner == null || owner.equals(c.getKey()) || !statefulSubtopologies.contains(t.subtopology())
                    || maxWarmupReplicas <= 0) {
                    continue;
                }
                long ownerOffsets = offsetsOf(t, membersByClient.get(owner), members);
                long newOffsets = offsetsOf(t, membersByClient.get(c.getKey()), members);
                if (ownerOffsets < 0 || newOffsets >= ownerOffsets - acceptableRecoveryLag) {
                    continue;   // caught up (or nothing known to wait for): move now
                }
                c.getValue().remove(t);
                activeByClient.get(owner).add(t);
                heldBack = true;
                if (warmupsLeft > 0) {
                    warmups.get(c.getKey()).add(t);
                    warmupsLeft--;
                }
            }
        }
        return heldBack;
    }

    /** The highest changelog offset sum the client's members report for the task; -1 if none. */
    private static long offsetsOf(TaskId t, List<String> clientMembers, Map<String, MemberInfo> members) {
        long best = -1;
        for (String m : clientMembers) {
            best = Math.max(best, members.get(m).localTasks().getOrDefault(t, -1L));
        }
        return best;
    }

    /**
     * Standby replicas of each stateful task on clients other than its active's, at most one per client: preferring,
     * with {@code rack.aware.assignment.tags}, the client whose tags differ from those of the task's other copies in the
     * most dimensions (so a rack or zone lost takes no task's every copy, where the clients allow), then the client
     * holding most of the task's state, then the least loaded.
     */
    private Map<String, Set<TaskId>> assignStandby(Set<TaskId> tasks, Map<String, MemberInfo> members,
                                                  Map<String, List<String>> membersByClient,
                                                  Map<String, Set<TaskId>> activeByClient) {
        Map<String, Set<TaskId>> out = emptyByClient(membersByClient);
        if (numStandbyReplicas <= 0) {
            return out;
        }
        for (TaskId t : tasks) {
            if (!statefulSubtopologies.contains(t.subtopology())) {
                continue;
            }
            // the tag values (rack.aware.assignment.tags) the task's copies already use: the active's, then each standby's
            Map<String, Set<String>> usedTags = new HashMap<>();
            for (Map.Entry<String, Set<TaskId>> c : activeByClient.entrySet()) {
                if (c.getValue().contains(t)) {
                    addTags(usedTags, tagsOf(c.getKey(), membersByClient, members));
                }
            }
            for (int r = 0; r < numStandbyReplicas; r++) {
                String best = null;
                long bestScore = 0;
                int bestSpread = 0;
                for (Map.Entry<String, List<String>> c : membersByClient.entrySet()) {
                    if (activeByClient.get(c.getKey()).contains(t) || out.get(c.getKey()).contains(t)) {
                        continue;
                    }
                    // first the client differing from the copies in the most tag dimensions (KIP-708), then state, load
                    int spread = tagSpread(usedTags, tagsOf(c.getKey(), membersByClient, members));
                    long score = stateScore(t, c.getValue(), members);
                    if (best == null || spread > bestSpread || spread == bestSpread && (score > bestScore
                        || score == bestScore && load(out, c.getKey(), membersByClient) < load(out, best, membersByClient))) {
                        best = c.getKey();
                        bestScore = score;
                        bestSpread = spread;
                    }
                }
                if (best == null) {
                    log.debug("Task {}: no other instance for standby replica {} of {}", t, r + 1, numStandbyReplicas);
                    break;
                }
                out.get(best).add(t);
                addTags(usedTags, tagsOf(best, membersByClient, members));
            }
        }
        return out;
    }

    /** The client's values of the rack-aware tags (its members agree: they are one instance's threads). */
    private Map<String, String> tagsOf(String client, Map<String, List<String>> membersByClient,
                                       Map<String, MemberInfo> members) {
        if (options.rackAwareTags().isEmpty()) {
            return Map.of();
        }
        Map<String, String> tags = members.get(membersByClient.get(client).get(0)).clientTags();
        Map<String, String> out = new HashMap<>();
        for (String key : options.rackAwareTags()) {
            String v = tags.get(key);
            if (v != null) {
                out.put(key, v);
            }
        }
        return out;
    }

    private static void addTags(Map<String, Set<String>> used, Map<String, String> tags) {
        tags.forEach((k, v) -> used.computeIfAbsent(k, x -> new HashSet<>()).add(v));
    }

    /** In how many tag dimensions the client's value is one no copy of the task uses yet (a missing tag never counts). */
    private static int tagSpread(Map<String, Set<String>> used, Map<String, String> tags) {
        int n = 0;
        for (Map.Entry<String, String> e : tags.entrySet()) {
            if (!used.getOrDefault(e.getKey(), Set.of()).contains(e.getValue())) {
                n++;
            }
        }
        return n;
    }

    /** A client's tasks over its threads: sticky to the thread that had the task (active or standby), balanced. */
    private static void splitOverThreads(List<String> threads, Map<String, MemberInfo> members, Set<TaskId> active,
                                         Set<TaskId> standby, Map<String, Set<TaskId>> activeOut,
                                         Map<String, Set<TaskId>> standbyOut) {
        threads.forEach(m -> {
            activeOut.put(m, new TreeSet<>());
            standbyOut.put(m, new TreeSet<>());
        });
        int quota = (active.size() + threads.size() - 1) / threads.size();
        List<TaskId> rest = new ArrayList<>();
        for (TaskId t : active) {
            String owner = null;
            for (String m : threads) {
                MemberInfo info = members.get(m);
                if (info.prevStandby().contains(t)) {
                    owner = m;   // its store is open there: always keep it on that thread
                    break;
                }
                if (owner == null && info.prevActive().contains(t) && activeOut.get(m).size() < quota) {
                    owner = m;
                }
            }
            if (owner != null) {
                activeOut.get(owner).add(t);
            } else {
                rest.add(t);
            }
        }
        Comparator<String> byLoad = Comparator.comparingInt((String m) -> activeOut.get(m).size()).thenComparing(m -> m);
        for (TaskId t : rest) {
            activeOut.get(threads.stream().min(byLoad).orElseThrow()).add(t);
        }
        for (TaskId t : standby) {
            String owner = null;
            for (String m : threads) {
                if (members.get(m).prevStandby().contains(t) || members.get(m).prevActive().contains(t)) {
                    owner = m;
                    break;
                }
            }
            if (owner == null) {
                owner = threads.stream().min(Comparator.comparingInt(
                    (String m) -> activeOut.get(m).size() + standbyOut.get(m).size()).thenComparing(m -> m)).orElseThrow();
            }
            standbyOut.get(owner).add(t);
        }
    }

    private static final Comparator<TopicPartition> PARTITION_ORDER =
        Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    // ---- userData layouts (version int16 first; a newer reader reads what it knows)

    static ByteBuffer encodeSubscription(MemberInfo info) {
        Writer w = new Writer();
        w.int16(VERSION);
        w.string(info.processId());
        w.string(info.host());
        w.tasks(info.prevActive());
        w.tasks(info.prevStandby());
        w.int32(info.localTasks().size());
        for (Map.Entry<TaskId, Long> e : new TreeMap<>(info.localTasks()).entrySet()) {
            w.task(e.getKey());
            w.int64(e.getValue());
        }
        w.int32(info.errorCode());
        w.int32(info.followUpRequests());
        w.int32(info.clientTags().size());
        new TreeMap<>(info.clientTags()).forEach((k, v) -> {
            w.string(k);
            w.string(v);
        });
        return w.done();
    }

    static MemberInfo decodeSubscription(ByteBuffer data, String memberId) {
        if (data == null || data.remaining() < 2) {
            // not a Weir streams member: a client of its own with no state
            return new MemberInfo(memberId, null, Set.of(), Set.of(), Map.of(), ERROR_NONE);
        }
        ByteBuffer b = data.duplicate();
        b.getShort();
        String pid = readString(b);
        String host = readString(b);
        Set<TaskId> active = readTasks(b);
        Set<TaskId> standby = readTasks(b);
        int n = b.getInt();
        Map<TaskId, Long> local = new HashMap<>();
        for (int i = 0; i < n; i++) {
            local.put(readTask(b), b.getLong());
        }
        int error = b.getInt();
        int followUps = b.remaining() >= 4 ? b.getInt() : 0;   // absent from an older member's subscription
        Map<String, String> tags = new HashMap<>();
        int nTags = b.remaining() >= 4 ? b.getInt() : 0;   // so are the client tags
        for (int i = 0; i < nTags; i++) {
            tags.put(readString(b), readString(b));
        }
        return new MemberInfo(pid, host, active, standby, local, error, followUps, Map.copyOf(tags));
    }

    static ByteBuffer encodeAssignment(AssignmentInfo info) {
        Writer w = new Writer();
        w.int16(VERSION);
        w.int32(info.errorCode());
        w.tasks(info.activeTasks());
        w.tasks(info.standbyTasks());
        w.hosts(info.activeHosts());
        w.hosts(info.standbyHosts());
        w.int32(info.partitionCounts().size());
        info.partitionCounts().forEach((t, n) -> {
            w.string(t);
            w.int32(n);
        });
        w.int32(info.probingRebalanceNeeded() ? 1 : 0);
        return w.done();
    }

    static AssignmentInfo decodeAssignment(ByteBuffer data, int generation) {
        ByteBuffer b = data.duplicate();
        b.getShort();
        int error = b.getInt();
        Set<TaskId> active = readTasks(b);
        Set<TaskId> standby = readTasks(b);
        Map<String, Set<TopicPartition>> activeHosts = readHosts(b);
        Map<String, Set<TopicPartition>> standbyHosts = readHosts(b);
        int n = b.getInt();
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            counts.put(readString(b), b.getInt());
        }
        boolean probing = b.remaining() >= 4 && b.getInt() == 1;
        return new AssignmentInfo(error, active, standby, activeHosts, standbyHosts, Map.copyOf(counts), generation, probing);
    }

    private static String readString(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0) {
            return null;
        }
        byte[] bytes = new byte[len];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static TaskId readTask(ByteBuffer b) {
        return new TaskId(b.getInt(), b.getInt());
    }

    private static Set<TaskId> readTasks(ByteBuffer b) {
        int n = b.getInt();
        Set<TaskId> out = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            out.add(readTask(b));
        }
        return Set.copyOf(out);
    }

    private static Map<String, Set<TopicPartition>> readHosts(ByteBuffer b) {
        int n = b.getInt();
        Map<String, Set<TopicPartition>> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String h = readString(b);
            int m = b.getInt();
            Set<TopicPartition> parts = new HashSet<>();
            for (int j = 0; j < m; j++) {
                parts.add(new TopicPartition(readString(b), b.getInt()));
            }
            out.put(h, Set.copyOf(parts));
        }
        return Map.copyOf(out);
    }

    private static final class Writer {
        private final ByteBufferOutputStream out = new ByteBufferOutputStream(256);

        void int16(short v) {
            out.writeShort(v);
        }

        void int32(int v) {
            out.writeInt(v);
        }

        void int64(long v) {
            out.writeLong(v);
        }

        void string(String s) {
            if (s == null) {
                int32(-1);
                return;
            }
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            int32(bytes.length);
            out.write(bytes, 0, bytes.length);
        }

        void task(TaskId t) {
            int32(t.subtopology());
            int32(t.partition());
        }

        void tasks(Collection<TaskId> tasks) {
            int32(tasks.size());
            new TreeSet<>(tasks).forEach(this::task);
        }

        void hosts(Map<String, Set<TopicPartition>> hosts) {
            int32(hosts.size());
            for (Map.Entry<String, Set<TopicPartition>> e : new TreeMap<>(hosts).entrySet()) {
                string(e.getKey());
                int32(e.getValue().size());
                for (TopicPartition tp : e.getValue()) {
                    string(tp.topic());
                    int32(tp.partition());
                }
            }
        }

        ByteBuffer done() {
            return out.toReadableBuffer();
        }
    }
}
