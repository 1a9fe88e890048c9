package io.weir.consumer.internals;

import io.weir.consumer.ConsumerProtocol;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.consumer.ConsumerRebalanceListener;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.consumer.errors.CommitFailedException;
import io.weir.consumer.errors.ConsumerException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;
import io.weir.protocol.message.HeartbeatRequest;
import io.weir.protocol.message.HeartbeatResponse;
import io.weir.protocol.message.JoinGroupRequest;
import io.weir.protocol.message.JoinGroupResponse;
import io.weir.protocol.message.LeaveGroupRequest;
import io.weir.protocol.message.OffsetCommitRequest;
import io.weir.protocol.message.OffsetCommitResponse;
import io.weir.protocol.message.OffsetFetchRequest;
import io.weir.protocol.message.OffsetFetchResponse;
import io.weir.protocol.message.SyncGroupRequest;
import io.weir.protocol.message.SyncGroupResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The member side of the classic group protocol plus offset commits: finds the coordinator,
 * joins (JoinGroup, with the MEMBER_ID_REQUIRED round; the leader runs the assignor), syncs,
 * heartbeats on a background thread, commits and fetches offsets, and leaves on close.
 *
 * <h2>Threads</h2>
 * Joining, rebalance-listener calls, commits and offset fetches run on the polling thread (the
 * request chain of one join runs in network-thread callbacks, and the polling thread picks up its
 * outcome). The heartbeat thread only sends heartbeats and, from their errors, sets
 * {@code rejoinNeeded} or forgets the coordinator; it also leaves the group when the application
 * has not polled for {@code max.poll.interval.ms}. Shared fields are guarded by {@code this}.
 *
 * <h2>Rebalance protocols</h2>
 * EAGER (when any configured assignor lacks COOPERATIVE, as with Kafka's default range +
 * cooperative-sticky): every owned partition is revoked before joining. COOPERATIVE: members keep
 * their partitions while rebalancing, revoke only those missing from the new assignment, and then
 * rejoin at once so the next round can hand them to their new owner.
 *
 * <p>Group traffic uses its own {@link NetworkClient}, whose request timeout covers a JoinGroup
 * that the coordinator holds for up to the rebalance timeout.
 */
public final class ConsumerCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsumerCoordinator.class);

    public record Settings(String groupId, String groupInstanceId, int sessionTimeoutMs, int rebalanceTimeoutMs,
                           int heartbeatIntervalMs, boolean autoCommit, int autoCommitIntervalMs, long retryBackoffMs,
                           boolean requireStable, String rackId, List<PartitionAssignor> assignors) {
    }

    /**
     * The outcome of one join round, produced by the network-thread chain. {@code leaderPartitionCounts}
     * is set when this member assigned as the leader: the partition count of every topic the group
     * subscribes to, as the assignment saw it (0 for a topic its metadata did not have).
     */
    private record JoinOutcome(Errors error, String errorDetail, int generation, String memberId, String protocol,
                               ByteBuffer assignment, Map<String, Integer> leaderPartitionCounts) {
        static JoinOutcome failed(Errors error, String detail) {
            return new JoinOutcome(error, detail, -1, null, null, null, null);
        }
    }

    /** What the leader sends in SyncGroup, and the partition counts it assigned from (null for a follower). */
    private record LeaderAssignment(List<SyncGroupRequest.SyncGroupRequestAssignment> assignments,
                                    Map<String, Integer> partitionCounts) {
    }

    private enum State { UNJOINED, REBALANCING, STABLE }

    private final NetworkClient client; // group traffic
    private final NetworkClient dataClient; // metadata of the consumer
    private final Time time;
    private final SubscriptionState subscriptions;
    private final Waker waker;
    private final Settings settings;
    private final PartitionAssignor.RebalanceProtocol protocol;
    private final Thread heartbeatThread;

    // guarded by this
    private Node coordinator;
    private State state = State.UNJOINED;
    private int generation = -1;
    private String memberId = "";
    private String protocolName;
    private boolean rejoinNeeded = true;
    private long lastPollMs;
    private long lastHeartbeatMs;
    private boolean closed;
    private boolean leftForPollTimeout;
    // SyncGroup succeeded (on the network thread) but the polling thread has not applied the
    // assignment yet: the member is in the new generation and must heartbeat in it meanwhile
    private boolean synced;

    // polling thread only
    private long retryNotBeforeMs; // backoff after a failed coordinator lookup or join round
    private CompletableFuture<Node> findFuture;
    private CompletableFuture<JoinOutcome> joinFuture;
    private boolean joinPrepared;
    private long nextAutoCommitMs;
    // partition count per topic the last assignment was made from (0 = the topic was missing): for the
    // leader every topic the group subscribes to, as its assignment saw them; for a follower its own
    // topics as its metadata showed them when it joined. A difference in later metadata means rejoin.
    private Map<String, Integer> joinedPartitionCounts = Map.of();
    private final List<Runnable> completedCallbacks = new ArrayList<>();

    public ConsumerCoordinator(NetworkClient client, NetworkClient dataClient, Time time, SubscriptionState subscriptions,
                               Waker waker, Settings settings) {
        this.client = client;
        this.dataClient = dataClient;
        this.time = time;
        this.subscriptions = subscriptions;
        this.waker = waker;
        this.settings = settings;
        boolean allCooperative = settings.assignors().stream()
            .allMatch(a -> a.supportedProtocols().contains(PartitionAssignor.RebalanceProtocol.COOPERATIVE));
        this.protocol = allCooperative ? PartitionAssignor.RebalanceProtocol.COOPERATIVE
            : PartitionAssignor.RebalanceProtocol.EAGER;
        this.lastPollMs = time.milliseconds();
        this.nextAutoCommitMs = lastPollMs + settings.autoCommitIntervalMs();
        this.heartbeatThread = new Thread(this::heartbeatLoop, "weir-heartbeat-" + settings.groupId());
        this.heartbeatThread.setDaemon(true);
        this.heartbeatThread.start();
    }

    public String groupId() {
        return settings.groupId();
    }

    /** Group id, generation, member id and instance id read together, for transactional offset commits. */
    public synchronized io.weir.consumer.ConsumerGroupMetadata groupMetadata() {
        return new io.weir.consumer.ConsumerGroupMetadata(settings.groupId(), generation, memberId,
            java.util.Optional.ofNullable(settings.groupInstanceId()));
    }

    public synchronized int generation() {
        return generation;
    }

    public synchronized String memberId() {
        return memberId;
    }

    public PartitionAssignor.RebalanceProtocol rebalanceProtocol() {
        return protocol;
    }

    /** Asks for a rebalance at the next poll (a subscription change, a partition count change). */
    public synchronized void requestRejoin() {
        rejoinNeeded = true;
    }

    // ------------------------------------------------------------------ coordinator discovery

    private synchronized Node coordinator() {
        return coordinator;
    }

    private synchronized void markCoordinatorUnknown(String why) {
        if (coordinator != null) {
            log.info("group {}: coordinator {} is unavailable ({}); looking it up again", settings.groupId(),
                coordinator, why);
            coordinator = null;
        }
    }

    private static boolean isCoordinatorError(Errors e) {
        return e == Errors.NOT_COORDINATOR || e == Errors.COORDINATOR_NOT_AVAILABLE;
    }

    /** Looks the coordinator up; returns it or null when the deadline passed first. */
    Node ensureCoordinatorReady(long deadlineMs, Supplier<Boolean> woken) {
        while (true) {
            Node c = coordinator();
            if (c != null) {
                return c;
            }
            if (findFuture == null) {
                if (!awaitBackoff(deadlineMs, woken)) {
                    return null;
                }
                // the request's own timeout, not the caller's deadline: a non-blocking caller picks
                // the answer up at a later call
                findFuture = sendFindCoordinator(time.milliseconds() + client.settings().requestTimeoutMs());
                findFuture.whenComplete((v, e) -> waker.signal());
            }
            Node found = awaitIfTime(findFuture, deadlineMs, woken);
            if (!findFuture.isDone()) {
                return null;
            }
            CompletableFuture<Node> f = findFuture;
            findFuture = null;
            if (f.isCompletedExceptionally() || found == null) {
                Throwable cause = Awaits.cause(f);
                if (cause instanceof ConsumerException ce && !ce.isRetriable()) {
                    throw ce;
                }
                retryNotBeforeMs = time.milliseconds() + settings.retryBackoffMs();
                continue;
            }
            synchronized (this) {
                coordinator = found;
            }
            return found;
        }
    }

    private CompletableFuture<Node> sendFindCoordinator(long deadlineMs) {
        RequestBuilder b = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.FIND_COORDINATOR;
            }

            @Override
            public ApiMessage build(short version) {
                FindCoordinatorRequest r = new FindCoordinatorRequest().setKeyType((byte) 0);
                if (version >= 4) {
                    r.setCoordinatorKeys(new ArrayList<>(List.of(settings.groupId())));
                } else {
                    r.setKey(settings.groupId());
                }
                return r;
            }
        };
        return client.send(NodeSelector.leastLoaded(), b, deadlineMs).thenApply(resp -> {
            FindCoordinatorResponse r = (FindCoordinatorResponse) resp;
            Errors err;
            int nodeId;
            String host;
            int port;
            if (!r.coordinators().isEmpty()) {
                FindCoordinatorResponse.Coordinator c = r.coordinators().get(0);
                err = Errors.forCode(c.errorCode());
                nodeId = c.nodeId();
                host = c.host();
                port = c.port();
            } else {
                err = Errors.forCode(r.errorCode());
                nodeId = r.nodeId();
                host = r.host();
                port = r.port();
            }
            if (err != Errors.NONE) {
                throw new ConsumerException(err, "FindCoordinator for group " + settings.groupId() + " failed: " + err);
            }
            return new Node(nodeId, host, port);
        });
    }

    // ------------------------------------------------------------------ poll

    /**
     * The group work of one poll: coordinator lookup, (re)join when needed, auto-commit. Returns
     * false if the deadline passed before the member was in a stable group; with a deadline of
     * {@code nowMs} it never blocks, and a join in flight is picked up at a later call.
     */
    public boolean poll(long nowMs, long deadlineMs, Supplier<Boolean> woken) {
        synchronized (this) {
            lastPollMs = nowMs;
            if (leftForPollTimeout) {
                leftForPollTimeout = false;
                log.warn("group {}: rejoining after leaving for exceeding max.poll.interval.ms", settings.groupId());
            }
        }
        runCompletedCallbacks();
        if (coordinator() == null && (subscriptions.hasAutoAssignment() || settings.autoCommit())) {
            // a coordinator forgotten after its broker died (a heartbeat or commit failed) is looked up
            // again here even when no join is due: heartbeats and auto-commits wait for it, and a member
            // that only polls would otherwise never find the new one (and be evicted at session timeout)
            if (ensureCoordinatorReady(deadlineMs, woken) == null) {
                return false;
            }
        }
        if (subscriptions.hasAutoAssignment()) {
            checkSubscriptionMetadata();
            if (needsJoin()) {
                if (ensureCoordinatorReady(deadlineMs, woken) == null) {
                    return false;
                }
                if (!ensureActiveGroup(deadlineMs, woken)) {
                    return false;
                }
            }
        }
        maybeAutoCommit(nowMs);
        return true;
    }

    private synchronized boolean stillSynced(int gen) {
        return synced && generation == gen && state == State.REBALANCING;
    }

    private synchronized boolean needsJoin() {
        return rejoinNeeded || state != State.STABLE;
    }

    /**
     * Pattern subscriptions follow the cluster's topics; a rebalance is requested when the metadata of a
     * topic the last assignment was made from shows another partition count, or shows a topic that was
     * missing then (the leader assigned none of its partitions; nothing else would ever assign them).
     */
    private void checkSubscriptionMetadata() {
        Cluster cluster = dataClient.metadata().cluster();
        if (cluster.isBootstrap()) {
            return;
        }
        if (subscriptions.type() == SubscriptionState.Type.AUTO_PATTERN) {
            Set<String> matched = new TreeSet<>();
            for (String t : cluster.topicNames()) {
                Cluster.TopicInfo info = cluster.topic(t);
                if (!info.internal() && subscriptions.pattern().matcher(t).matches()) {
                    matched.add(t);
                }
            }
            if (subscriptions.changeSubscription(matched)) {
                requestRejoin();
            }
        }
        Set<String> watched = null;
        synchronized (this) {
            if (state == State.STABLE && !joinedPartitionCounts.isEmpty()) {
                if (!rejoinNeeded) {
                    watched = joinedPartitionCounts.keySet();
                }
                for (Map.Entry<String, Integer> e : joinedPartitionCounts.entrySet()) {
                    Cluster.TopicInfo info = cluster.topic(e.getKey());
                    if (info != null && info.partitions().size() != e.getValue()) {
                        log.info("group {}: topic {} now has {} partitions, the assignment used {}; rebalancing",
                            settings.groupId(), e.getKey(), info.partitions().size(), e.getValue());
                        rejoinNeeded = true;
                    }
                }
            }
        }
        if (watched != null) {
            // a leader watches topics only other members subscribe to; a new subscribe() may have
            // dropped them from the topics metadata asks for (a no-op when they are all there)
            dataClient.metadata().addTopics(watched);
        }
    }

    private boolean ensureActiveGroup(long deadlineMs, Supplier<Boolean> woken) {
        while (needsJoin()) {
            Node c = ensureCoordinatorReady(deadlineMs, woken);
            if (c == null) {
                return false;
            }
            if (!joinPrepared) {
                onJoinPrepare();
                joinPrepared = true;
            }
            if (joinFuture == null) {
                if (!awaitBackoff(deadlineMs, woken)) {
                    return false;
                }
                synchronized (this) {
                    state = State.REBALANCING;
                    synced = false;
                    // cleared when the round starts, not when it ends: a request to rejoin that
                    // arrives during the round (a subscription change, a heartbeat) is kept
                    rejoinNeeded = false;
                }
                joinFuture = joinRound(c);
                joinFuture.whenComplete((v, e) -> waker.signal());
            }
            awaitIfTime(joinFuture, deadlineMs, woken);
            if (!joinFuture.isDone()) {
                return false;
            }
            JoinOutcome outcome = joinFuture.isCompletedExceptionally()
                ? JoinOutcome.failed(Errors.NETWORK_EXCEPTION, String.valueOf(Awaits.cause(joinFuture)))
                : joinFuture.join();
            joinFuture = null;
            if (outcome.error() == Errors.NONE && !stillSynced(outcome.generation())) {
                // a heartbeat, leave or poll timeout reset the generation after SyncGroup succeeded
                log.info("group {}: generation {} ended before its assignment was applied; rejoining",
                    settings.groupId(), outcome.generation());
                joinPrepared = false;
                continue;
            }
            if (outcome.error() == Errors.NONE) {
                onJoinComplete(outcome);
                joinPrepared = false;
                continue;
            }
            handleJoinError(outcome);
            retryNotBeforeMs = time.milliseconds() + settings.retryBackoffMs();
        }
        return true;
    }

    /**
     * Waits out the retry backoff if it ends before the deadline; false if it does not (the caller
     * returns and tries again at a later call).
     */
    private boolean awaitBackoff(long deadlineMs, Supplier<Boolean> woken) {
        long waitMs = retryNotBeforeMs - time.milliseconds();
        if (waitMs <= 0) {
            return true;
        }
        if (retryNotBeforeMs >= deadlineMs) {
            return false;
        }
        Awaits.sleep(waitMs, waker, woken);
        return true;
    }

    /**
     * Waits for {@code f} until the deadline. A deadline already passed means "do not block": the
     * future signals the waker when it completes (registered once, where it was created), so a
     * non-blocking caller's own wait ends then.
     */
    private <T> T awaitIfTime(CompletableFuture<T> f, long deadlineMs, Supplier<Boolean> woken) {
        if (!f.isDone() && deadlineMs <= time.milliseconds()) {
            return null;
        }
        return Awaits.await(f, deadlineMs, time, waker, woken);
    }

    private void handleJoinError(JoinOutcome o) {
        Errors e = o.error();
        switch (e) {
            case UNKNOWN_MEMBER_ID:
            case ILLEGAL_GENERATION:
                resetGeneration("join failed with " + e);
                break;
            case NOT_COORDINATOR:
            case COORDINATOR_NOT_AVAILABLE:
            case NETWORK_EXCEPTION:
            case REQUEST_TIMED_OUT:
                markCoordinatorUnknown(String.valueOf(o.errorDetail()));
                break;
            case REBALANCE_IN_PROGRESS:
            case COORDINATOR_LOAD_IN_PROGRESS:
                break;
            default:
                synchronized (this) {
                    state = State.UNJOINED;
                }
                throw new ConsumerException(e, "group " + settings.groupId() + ": joining failed: "
                    + (o.errorDetail() == null ? e.message() : o.errorDetail()));
        }
        log.debug("group {}: join round failed with {} ({}); retrying", settings.groupId(), e, o.errorDetail());
    }

    private void onJoinPrepare() {
        if (settings.autoCommit()) {
            try {
                commitSync(subscriptions.allConsumedAsOffsets(), time.milliseconds() + settings.rebalanceTimeoutMs(),
                    () -> false);
            } catch (RuntimeException e) {
                log.warn("group {}: auto-commit before rebalancing failed: {}", settings.groupId(), e.toString());
            }
        }
        boolean lostAll;
        synchronized (this) {
            lostAll = generation < 0 || memberId.isEmpty();
        }
        Set<TopicPartition> owned = subscriptions.assignedPartitions();
        if (protocol == PartitionAssignor.RebalanceProtocol.EAGER && !owned.isEmpty()) {
            if (lostAll) {
                subscriptions.listener().onPartitionsLost(owned);
            } else {
                subscriptions.listener().onPartitionsRevoked(owned);
            }
            subscriptions.assignFromSubscribed(List.of());
        } else if (lostAll && !owned.isEmpty() && generationWasReset) {
            subscriptions.listener().onPartitionsLost(owned);
            subscriptions.assignFromSubscribed(List.of());
        }
        generationWasReset = false;
    }

    private boolean generationWasReset;

    private void onJoinComplete(JoinOutcome o) {
        ConsumerProtocol.Assignment assignment = ConsumerProtocol.deserializeAssignment(o.assignment());
        Set<TopicPartition> assigned = new LinkedHashSet<>();
        for (TopicPartition tp : assignment.partitions()) {
            if (subscriptions.subscription().contains(tp.topic())) {
                assigned.add(tp);
            }
        }
        Set<TopicPartition> owned = subscriptions.assignedPartitions();
        synchronized (this) {
            generation = o.generation();
            memberId = o.memberId();
            protocolName = o.protocol();
            state = State.STABLE;
            synced = false;
            lastHeartbeatMs = time.milliseconds();
            if (o.leaderPartitionCounts() != null) {
                joinedPartitionCounts = o.leaderPartitionCounts();
            } else {
                Map<String, Integer> counts = new HashMap<>();
                Cluster cluster = dataClient.metadata().cluster();
                for (String t : subscriptions.subscription()) {
                    Cluster.TopicInfo info = cluster.topic(t);
                    if (info != null) {
                        counts.put(t, info.partitions().size());
                    }
                }
                joinedPartitionCounts = counts;
            }
        }
        log.info("group {}: joined generation {} as {} with {} ({}); assigned {}", settings.groupId(), o.generation(),
            o.memberId(), o.protocol(), protocol, assigned);
        for (PartitionAssignor a : settings.assignors()) {
            if (a.name().equals(o.protocol())) {
                a.onAssignment(assignment, o.generation());
            }
        }
        if (protocol == PartitionAssignor.RebalanceProtocol.COOPERATIVE) {
            Set<TopicPartition> revoked = new LinkedHashSet<>(owned);
            revoked.removeAll(assigned);
            Set<TopicPartition> added = new LinkedHashSet<>(assigned);
            added.removeAll(owned);
            if (!revoked.isEmpty()) {
                subscriptions.listener().onPartitionsRevoked(revoked);
            }
            subscriptions.assignFromSubscribed(assigned);
            subscriptions.listener().onPartitionsAssigned(added);
            if (!revoked.isEmpty()) {
                requestRejoin(); // let the next round give the revoked partitions to their new owner
            }
        } else {
            subscriptions.assignFromSubscribed(assigned);
            subscriptions.listener().onPartitionsAssigned(assigned);
        }
    }

    /** JoinGroup (twice when the coordinator asks for a member id), the leader's assignment, SyncGroup. */
    private CompletableFuture<JoinOutcome> joinRound(Node c) {
        String member;
        int gen;
        synchronized (this) {
            member = memberId;
            gen = generation;
        }
        List<String> topics = new ArrayList<>(new TreeSet<>(subscriptions.subscription()));
        List<TopicPartition> owned = protocol == PartitionAssignor.RebalanceProtocol.COOPERATIVE
            ? new ArrayList<>(subscriptions.assignedPartitions()) : List.of();
        List<JoinGroupRequest.JoinGroupRequestProtocol> protocols = new ArrayList<>();
        for (PartitionAssignor a : settings.assignors()) {
            ConsumerProtocol.Subscription s = new ConsumerProtocol.Subscription(topics,
                a.subscriptionUserData(gen), owned, gen,
                settings.rackId() == null || settings.rackId().isEmpty() ? null : settings.rackId());
            ByteBuffer bytes = ConsumerProtocol.serializeSubscription(s);
            byte[] arr = new byte[bytes.remaining()];
            bytes.get(arr);
            protocols.add(new JoinGroupRequest.JoinGroupRequestProtocol().setName(a.name()).setMetadata(arr));
        }
        return sendJoin(c, member, protocols, 0);
    }

    private long joinDeadline() {
        return time.milliseconds() + settings.rebalanceTimeoutMs() + 30_000L;
    }

    private CompletableFuture<JoinOutcome> sendJoin(Node c, String member,
                                                    List<JoinGroupRequest.JoinGroupRequestProtocol> protocols,
                                                    int attempt) {
        JoinGroupRequest req = new JoinGroupRequest()
            .setGroupId(settings.groupId())
            .setSessionTimeoutMs(settings.sessionTimeoutMs())
            .setRebalanceTimeoutMs(settings.rebalanceTimeoutMs())
            .setMemberId(member)
            .setGroupInstanceId(settings.groupInstanceId())
            .setProtocolType(ConsumerProtocol.PROTOCOL_TYPE)
            .setProtocols(protocols)
            .setReason(attempt == 0 ? "rebalance" : "rejoin with the member id the coordinator gave");
        return client.send(NodeSelector.fixed(c), nonRetrying(req), joinDeadline()).thenCompose(resp -> {
            JoinGroupResponse r = (JoinGroupResponse) resp;
            Errors err = Errors.forCode(r.errorCode());
            if (err == Errors.MEMBER_ID_REQUIRED && attempt < 3) {
                synchronized (this) {
                    memberId = r.memberId();
                }
                return sendJoin(c, r.memberId(), protocols, attempt + 1);
            }
            if (err != Errors.NONE) {
                return CompletableFuture.completedFuture(JoinOutcome.failed(err, "JoinGroup: " + err));
            }
            synchronized (this) {
                memberId = r.memberId();
            }
            CompletableFuture<LeaderAssignment> assignments;
            if (r.leader().equals(r.memberId()) && !r.skipAssignment()) {
                assignments = leaderAssign(r);
            } else {
                assignments = CompletableFuture.completedFuture(new LeaderAssignment(new ArrayList<>(), null));
            }
            return assignments.thenCompose(a -> sendSync(c, r, a));
        }).exceptionally(ex -> JoinOutcome.failed(Errors.NETWORK_EXCEPTION, String.valueOf(Awaits.unwrap(ex))));
    }

    private CompletableFuture<LeaderAssignment> leaderAssign(JoinGroupResponse r) {
        PartitionAssignor assignor = null;
        for (PartitionAssignor a : settings.assignors()) {
            if (a.name().equals(r.protocolName())) {
                assignor = a;
            }
        }
        if (assignor == null) {
            return CompletableFuture.failedFuture(new ConsumerException(Errors.INCONSISTENT_GROUP_PROTOCOL,
                "the coordinator chose assignor " + r.protocolName() + ", which this member does not have"));
        }
        Map<String, ConsumerProtocol.Subscription> subs = new LinkedHashMap<>();
        for (JoinGroupResponse.JoinGroupResponseMember m : r.members()) {
            subs.put(m.memberId(), ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(m.metadata())));
        }
        Set<String> topics = PartitionAssignor.allTopics(subs);
        dataClient.metadata().addTopics(topics);
        Cluster cluster = dataClient.metadata().cluster();
        boolean missing = topics.stream().anyMatch(t -> cluster.topic(t) == null);
        CompletableFuture<Cluster> metadata = missing
            ? dataClient.refreshMetadata(time.milliseconds() + 10_000L).exceptionally(ex -> dataClient.metadata().cluster())
            : CompletableFuture.completedFuture(cluster);
        PartitionAssignor chosen = assignor;
        return metadata.thenApply(cl -> {
            Map<String, Integer> counts = new HashMap<>();
            Map<String, Integer> used = new HashMap<>();
            for (String t : topics) {
                Cluster.TopicInfo info = cl.topic(t);
                if (info != null) {
                    counts.put(t, info.partitions().size());
                }
                used.put(t, info == null ? 0 : info.partitions().size());
            }
            if (used.containsValue(0)) {
                log.info("group {}: assigning without metadata for {}; will rebalance when it appears",
                    settings.groupId(), used.entrySet().stream().filter(e -> e.getValue() == 0)
                        .map(Map.Entry::getKey).sorted().toList());
            }
            Map<String, ConsumerProtocol.Assignment> result = chosen.assignWithUserData(counts, subs);
            if (log.isInfoEnabled()) {
                Map<String, List<TopicPartition>> shown = new LinkedHashMap<>();
                result.forEach((m, a) -> shown.put(m, a.partitions()));
                log.info("group {}: leader assigned with {}: {}", settings.groupId(), chosen.name(), shown);
            }
            List<SyncGroupRequest.SyncGroupRequestAssignment> out = new ArrayList<>();
            for (String m : subs.keySet()) {
                ByteBuffer b = ConsumerProtocol.serializeAssignment(result.getOrDefault(m,
                    new ConsumerProtocol.Assignment(List.of(), null)));
                byte[] arr = new byte[b.remaining()];
                b.get(arr);
                out.add(new SyncGroupRequest.SyncGroupRequestAssignment().setMemberId(m).setAssignment(arr));
            }
            return new LeaderAssignment(out, Map.copyOf(used));
        });
    }

    private CompletableFuture<JoinOutcome> sendSync(Node c, JoinGroupResponse join, LeaderAssignment leader) {
        SyncGroupRequest req = new SyncGroupRequest()
            .setGroupId(settings.groupId())
            .setGenerationId(join.generationId())
            .setMemberId(join.memberId())
            .setGroupInstanceId(settings.groupInstanceId())
            .setProtocolType(ConsumerProtocol.PROTOCOL_TYPE)
            .setProtocolName(join.protocolName())
            .setAssignments(leader.assignments());
        return client.send(NodeSelector.fixed(c), nonRetrying(req), joinDeadline()).thenApply(resp -> {
            SyncGroupResponse r = (SyncGroupResponse) resp;
            Errors err = Errors.forCode(r.errorCode());
            if (err != Errors.NONE) {
                return JoinOutcome.failed(err, "SyncGroup: " + err);
            }
            synchronized (this) {
                // the coordinator now expects heartbeats in this generation, whether or not the
                // application polls soon; the polling thread applies the assignment later
                if (state == State.REBALANCING && !closed) {
                    generation = join.generationId();
                    memberId = join.memberId();
                    synced = true;
                    lastHeartbeatMs = time.milliseconds();
                    notifyAll();
                }
            }
            return new JoinOutcome(Errors.NONE, null, join.generationId(), join.memberId(), join.protocolName(),
                r.assignment() == null ? null : ByteBuffer.wrap(r.assignment()), leader.partitionCounts());
        });
    }

    /** A coordinator request that is not sent again after a lost connection (join, sync, heartbeat, leave). */
    private static RequestBuilder nonRetrying(ApiMessage message) {
        return toCoordinator(RequestBuilder.of(message), false);
    }

    /**
     * {@code base} as a request to the group coordinator: it never waits for a connection. A coordinator
     * whose broker died refuses the connect (or is in reconnect backoff after its connection dropped); the
     * call then fails at once with a retriable {@link io.weir.protocol.client.DisconnectException}, so its
     * owner marks the coordinator unknown and finds the new one (the new leader of the group's
     * {@code __consumer_offsets} partition) after {@code retry.backoff.ms}, instead of sitting out the
     * call's deadline ({@code request.timeout.ms}, the API timeout, or the rebalance timeout) on a dead node.
     *
     * @param retryOnDisconnect whether a request cut off in flight may be resent (to the same node,
     *     which then fails fast as above if it is gone)
     */
    private static RequestBuilder toCoordinator(RequestBuilder base, boolean retryOnDisconnect) {
        return new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return base.api();
            }

            @Override
            public short oldestAllowedVersion() {
                return base.oldestAllowedVersion();
            }

            @Override
            public short latestAllowedVersion() {
                return base.latestAllowedVersion();
            }

            @Override
            public ApiMessage build(short version) {
                return base.build(version);
            }

            @Override
            public Errors retriableError(ApiMessage response) {
                return base.retriableError(response);
            }

            @Override
            public boolean retryOnDisconnect() {
                return retryOnDisconnect && base.retryOnDisconnect();
            }

            @Override
            public boolean waitForConnection() {
                return false;
            }
        };
    }

    /** Forgets the member id and generation (the coordinator no longer knows this member). */
    private synchronized void resetGeneration(String why) {
        log.info("group {}: resetting generation ({})", settings.groupId(), why);
        generation = -1;
        memberId = "";
        state = State.UNJOINED;
        synced = false;
        rejoinNeeded = true;
        generationWasReset = true;
    }

    /** Whether the member is in a generation the coordinator expects heartbeats for. Guarded by this. */
    private boolean inGeneration() {
        return (state == State.STABLE || synced) && generation >= 0;
    }

    // ------------------------------------------------------------------ heartbeats

    private void heartbeatLoop() {
        while (true) {
            long sleepMs;
            Node c;
            int gen;
            String member;
            synchronized (this) {
                if (closed) {
                    return;
                }
                long now = time.milliseconds();
                if (inGeneration() && now - lastPollMs > settings.rebalanceTimeoutMs()) {
                    log.warn("group {}: poll() was not called for {} ms, more than max.poll.interval.ms; leaving the group",
                        settings.groupId(), now - lastPollMs);
                    if (coordinator != null) {
                        sendLeave(coordinator, memberId, "poll timeout");
                    }
                    generation = -1;
                    memberId = "";
                    state = State.UNJOINED;
                    synced = false;
                    rejoinNeeded = true;
                    generationWasReset = true;
                    leftForPollTimeout = true;
                }
                long due = lastHeartbeatMs + settings.heartbeatIntervalMs();
                if (!inGeneration() || coordinator == null || now < due) {
                    sleepMs = inGeneration() ? Math.max(1, due - now) : 100;
                    c = null;
                    gen = -1;
                    member = null;
                } else {
                    sleepMs = 0;
                    c = coordinator;
                    gen = generation;
                    member = memberId;
                    lastHeartbeatMs = now;
                }
            }
            if (c != null) {
                heartbeat(c, gen, member);
                continue;
            }
            try {
                synchronized (this) {
                    if (!closed) {
                        wait(Math.min(sleepMs, 100));
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void heartbeat(Node c, int gen, String member) {
        HeartbeatRequest req = new HeartbeatRequest().setGroupId(settings.groupId()).setGenerationId(gen)
            .setMemberId(member).setGroupInstanceId(settings.groupInstanceId());
        long deadline = time.milliseconds() + Math.max(settings.heartbeatIntervalMs(), settings.sessionTimeoutMs() / 2);
        client.send(NodeSelector.fixed(c), nonRetrying(req), deadline).whenComplete((resp, ex) -> {
            if (ex != null) {
                markCoordinatorUnknown("heartbeat failed: " + Awaits.unwrap(ex));
                waker.signal();
                return;
            }
            Errors err = Errors.forCode(((HeartbeatResponse) resp).errorCode());
            switch (err) {
                case NONE:
                    return;
                case REBALANCE_IN_PROGRESS:
                    synchronized (this) {
                        // a reply to a heartbeat of the generation the member is in, not to one sent
                        // before the round in progress started
                        if (generation == gen && inGeneration()) {
                            rejoinNeeded = true;
                        }
                    }
                    break;
                case ILLEGAL_GENERATION:
                case UNKNOWN_MEMBER_ID:
                case FENCED_INSTANCE_ID:
                    synchronized (this) {
                        if (generation == gen && inGeneration()) {
                            generation = -1;
                            memberId = err == Errors.FENCED_INSTANCE_ID ? memberId : "";
                            state = State.UNJOINED;
                            synced = false;
                            rejoinNeeded = true;
                            generationWasReset = true;
                        }
                    }
                    break;
                case NOT_COORDINATOR:
                case COORDINATOR_NOT_AVAILABLE:
                    markCoordinatorUnknown("heartbeat got " + err);
                    break;
                default:
                    log.warn("group {}: heartbeat failed with {}", settings.groupId(), err);
            }
            waker.signal();
        });
    }

    // ------------------------------------------------------------------ commits

    private void maybeAutoCommit(long nowMs) {
        if (!settings.autoCommit() || nowMs < nextAutoCommitMs) {
            return;
        }
        nextAutoCommitMs = nowMs + settings.autoCommitIntervalMs();
        Map<TopicPartition, OffsetAndMetadata> offsets = subscriptions.allConsumedAsOffsets();
        if (offsets.isEmpty() || coordinator() == null) {
            return;
        }
        commitAsync(offsets, (o, e) -> {
            if (e != null) {
                log.warn("group {}: auto-commit of {} failed: {}", settings.groupId(), o, e.toString());
            }
        });
    }

    /** Commits on close when auto-commit is on. */
    public void autoCommitOnClose(long deadlineMs) {
        if (!settings.autoCommit()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = subscriptions.allConsumedAsOffsets();
        if (offsets.isEmpty()) {
            return;
        }
        try {
            commitSync(offsets, deadlineMs, () -> false);
        } catch (RuntimeException e) {
            log.warn("group {}: auto-commit on close failed: {}", settings.groupId(), e.toString());
        }
    }

    public void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, io.weir.consumer.OffsetCommitCallback cb) {
        Map<TopicPartition, OffsetAndMetadata> copy = Map.copyOf(offsets);
        Node c = coordinator();
        CompletableFuture<Void> f = c == null
            ? CompletableFuture.failedFuture(new ConsumerException(Errors.COORDINATOR_NOT_AVAILABLE,
                "the group coordinator is not known yet"))
            : sendCommit(c, copy, time.milliseconds() + client.settings().requestTimeoutMs());
        if (c == null) {
            if (findFuture == null) {
                findFuture = sendFindCoordinator(time.milliseconds() + client.settings().requestTimeoutMs());
                findFuture.whenComplete((v, e) -> waker.signal());
            }
        }
        f.whenComplete((v, ex) -> {
            synchronized (completedCallbacks) {
                completedCallbacks.add(() -> {
                    if (cb != null) {
                        cb.onComplete(copy, ex == null ? null : (Exception) Awaits.unwrap(ex));
                    }
                });
            }
            waker.signal();
        });
    }

    /** Runs the callbacks of finished async commits on the polling thread. */
    public void runCompletedCallbacks() {
        List<Runnable> run;
        synchronized (completedCallbacks) {
            run = new ArrayList<>(completedCallbacks);
            completedCallbacks.clear();
        }
        run.forEach(Runnable::run);
    }

    /** Commits and waits, retrying retriable failures until the deadline. */
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, long deadlineMs, Supplier<Boolean> woken) {
        runCompletedCallbacks();
        if (offsets.isEmpty()) {
            return;
        }
        RuntimeException last = null;
        while (true) {
            Node c = ensureCoordinatorReady(deadlineMs, woken);
            if (c == null) {
                throw new io.weir.protocol.client.TimeoutException("Timed out committing offsets "
                    + (last == null ? "(no coordinator found)" : ": " + last));
            }
            CompletableFuture<Void> f = sendCommit(c, offsets, deadlineMs);
            Awaits.await(f, deadlineMs, time, waker, woken);
            if (!f.isDone()) {
                throw new io.weir.protocol.client.TimeoutException("Timed out committing offsets " + offsets.keySet());
            }
            if (!f.isCompletedExceptionally()) {
                return;
            }
            Throwable t = Awaits.cause(f);
            if (t instanceof ConsumerException ce && ce.isRetriable()) {
                last = ce;
            } else if (t instanceof io.weir.protocol.client.TimeoutException
                || t instanceof io.weir.protocol.client.DisconnectException) {
                markCoordinatorUnknown(t.toString());
                last = (RuntimeException) t;
            } else if (t instanceof RuntimeException re) {
                throw re;
            } else {
                throw new IllegalStateException(t);
            }
            if (time.milliseconds() + settings.retryBackoffMs() >= deadlineMs) {
                throw new io.weir.protocol.client.TimeoutException("Timed out committing offsets: " + last);
            }
            Awaits.sleep(settings.retryBackoffMs(), waker, woken);
        }
    }

    private CompletableFuture<Void> sendCommit(Node c, Map<TopicPartition, OffsetAndMetadata> offsets, long deadlineMs) {
        int gen;
        String member;
        synchronized (this) {
            // cooperative members keep their partitions while rebalancing, and the coordinator takes
            // commits of the current generation until the new one is formed
            boolean inGroup = subscriptions.hasAutoAssignment() && generation >= 0 && (inGeneration()
                || state == State.REBALANCING && protocol == PartitionAssignor.RebalanceProtocol.COOPERATIVE);
            gen = inGroup ? generation : -1;
            member = inGroup ? memberId : "";
        }
        if (subscriptions.hasAutoAssignment() && gen < 0) {
            return CompletableFuture.failedFuture(new CommitFailedException("Commit cannot be completed since the "
                + "consumer is not part of an active group; it is rebalancing or was removed from the group"));
        }
        Map<String, OffsetCommitRequest.OffsetCommitRequestTopic> topics = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
            TopicPartition tp = e.getKey();
            topics.computeIfAbsent(tp.topic(), n -> new OffsetCommitRequest.OffsetCommitRequestTopic().setName(n))
                .partitions().add(new OffsetCommitRequest.OffsetCommitRequestPartition()
                    .setPartitionIndex(tp.partition())
                    .setCommittedOffset(e.getValue().offset())
                    .setCommittedLeaderEpoch(e.getValue().leaderEpoch().orElse(-1))
                    .setCommittedMetadata(e.getValue().metadata()));
        }
        OffsetCommitRequest req = new OffsetCommitRequest().setGroupId(settings.groupId())
            .setGenerationIdOrMemberEpoch(gen).setMemberId(member).setGroupInstanceId(settings.groupInstanceId())
            .setTopics(new ArrayList<>(topics.values()));
        return client.send(NodeSelector.fixed(c), toCoordinator(RequestBuilder.of(req), true), deadlineMs).thenAccept(resp -> {
            Errors first = Errors.NONE;
            TopicPartition firstTp = null;
            for (OffsetCommitResponse.OffsetCommitResponseTopic t : ((OffsetCommitResponse) resp).topics()) {
                for (OffsetCommitResponse.OffsetCommitResponsePartition p : t.partitions()) {
                    Errors err = Errors.forCode(p.errorCode());
                    if (err != Errors.NONE && first == Errors.NONE) {
                        first = err;
                        firstTp = new TopicPartition(t.name(), p.partitionIndex());
                    }
                }
            }
            switch (first) {
                case NONE:
                    return;
                case UNKNOWN_MEMBER_ID:
                case ILLEGAL_GENERATION:
                    resetGeneration("commit failed with " + first);
                    throw new CommitFailedException("Commit cannot be completed since the group has already "
                        + "rebalanced and assigned the partitions to another member (" + first + ")");
                case REBALANCE_IN_PROGRESS:
                    synchronized (this) {
                        if (state == State.STABLE) {
                            rejoinNeeded = true; // not yet rebalancing on this side: join the round
                        }
                    }
                    throw new CommitFailedException("Commit cannot be completed since the group is rebalancing");
                case NOT_COORDINATOR:
                case COORDINATOR_NOT_AVAILABLE:
                    markCoordinatorUnknown("commit got " + first);
                    throw new ConsumerException(first, "commit of " + firstTp + " failed: " + first);
                default:
                    throw new ConsumerException(first, "commit of " + firstTp + " failed: " + first.message());
            }
        });
    }

    /** The committed offsets of {@code partitions} (absent: none committed), or null at the deadline. */
    public Map<TopicPartition, OffsetAndMetadata> fetchCommittedOffsets(Set<TopicPartition> partitions, long deadlineMs,
                                                                      Supplier<Boolean> woken) {
        while (true) {
            Node c = ensureCoordinatorReady(deadlineMs, woken);
            if (c == null) {
                return null;
            }
            CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> f = sendOffsetFetch(c, partitions, deadlineMs);
            Map<TopicPartition, OffsetAndMetadata> result = Awaits.await(f, deadlineMs, time, waker, woken);
            if (!f.isDone()) {
                return null;
            }
            if (!f.isCompletedExceptionally()) {
                return result;
            }
            Throwable t = Awaits.cause(f);
            if (t instanceof ConsumerException ce && !ce.isRetriable()) {
                throw ce;
            }
            if (t instanceof ConsumerException ce && isCoordinatorError(ce.error())
                || t instanceof io.weir.protocol.client.DisconnectException
                || t instanceof io.weir.protocol.client.TimeoutException) {
                markCoordinatorUnknown(t.toString());
            }
            if (time.milliseconds() + settings.retryBackoffMs() >= deadlineMs) {
                return null;
            }
            Awaits.sleep(settings.retryBackoffMs(), waker, woken);
        }
    }

    private CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> sendOffsetFetch(Node c, Set<TopicPartition> parts,
                                                                                     long deadlineMs) {
        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : parts) {
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
        }
        RequestBuilder b = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.OFFSET_FETCH;
            }

            @Override
            public ApiMessage build(short version) {
                OffsetFetchRequest r = new OffsetFetchRequest().setRequireStable(settings.requireStable());
                if (version >= 8) {
                    List<OffsetFetchRequest.OffsetFetchRequestTopics> ts = new ArrayList<>();
                    byTopic.forEach((t, ps) -> ts.add(new OffsetFetchRequest.OffsetFetchRequestTopics().setName(t)
                        .setPartitionIndexes(new ArrayList<>(ps))));
                    r.setGroups(new ArrayList<>(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup()
                        .setGroupId(settings.groupId()).setTopics(ts))));
                } else {
                    List<OffsetFetchRequest.OffsetFetchRequestTopic> ts = new ArrayList<>();
                    byTopic.forEach((t, ps) -> ts.add(new OffsetFetchRequest.OffsetFetchRequestTopic().setName(t)
                        .setPartitionIndexes(new ArrayList<>(ps))));
                    r.setGroupId(settings.groupId()).setTopics(ts);
                }
                return r;
            }
        };
        return client.send(NodeSelector.fixed(c), toCoordinator(b, true), deadlineMs).thenApply(resp -> {
            OffsetFetchResponse r = (OffsetFetchResponse) resp;
            Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
            Errors top;
            if (!r.groups().isEmpty()) {
                OffsetFetchResponse.OffsetFetchResponseGroup g = r.groups().get(0);
                top = Errors.forCode(g.errorCode());
                checkTop(top);
                for (OffsetFetchResponse.OffsetFetchResponseTopics t : g.topics()) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartitions p : t.partitions()) {
                        add(out, new TopicPartition(t.name(), p.partitionIndex()), Errors.forCode(p.errorCode()),
                            p.committedOffset(), p.committedLeaderEpoch(), p.metadata());
                    }
                }
            } else {
                top = Errors.forCode(r.errorCode());
                checkTop(top);
                for (OffsetFetchResponse.OffsetFetchResponseTopic t : r.topics()) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartition p : t.partitions()) {
                        add(out, new TopicPartition(t.name(), p.partitionIndex()), Errors.forCode(p.errorCode()),
                            p.committedOffset(), p.committedLeaderEpoch(), p.metadata());
                    }
                }
            }
            return out;
        });
    }

    private void checkTop(Errors top) {
        if (top != Errors.NONE) {
            if (isCoordinatorError(top)) {
                markCoordinatorUnknown("offset fetch got " + top);
            }
            throw new ConsumerException(top, "fetching committed offsets of group " + settings.groupId() + " failed: " + top);
        }
    }

    private static void add(Map<TopicPartition, OffsetAndMetadata> out, TopicPartition tp, Errors err, long offset,
                            int epoch, String metadata) {
        if (err == Errors.UNSTABLE_OFFSET_COMMIT || err == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
            throw new ConsumerException(err, "committed offset of " + tp + " is not available yet: " + err);
        }
        if (err != Errors.NONE && err != Errors.UNKNOWN_TOPIC_OR_PARTITION) {
            throw new ConsumerException(err, "fetching the committed offset of " + tp + " failed: " + err);
        }
        if (err == Errors.NONE && offset >= 0) {
            out.put(tp, new OffsetAndMetadata(offset, epoch < 0 ? Optional.empty() : Optional.of(epoch), metadata));
        }
    }

    // ------------------------------------------------------------------ leaving

    /**
     * Revokes (or loses) the assignment and leaves the group, as unsubscribe() and close() do. A static member
     * (group.instance.id) keeps its place and sends no LeaveGroup, so it can come back without a rebalance.
     */
    public void leaveGroup(String reason, boolean revoke) {
        leaveGroup(reason, revoke, false);
    }

    /**
     * {@link #leaveGroup(String, boolean)}; with {@code evenIfStatic} a static member also sends LeaveGroup
     * (with its instance id), for a member that goes away for good: the coordinator then rebalances at once
     * instead of waiting session.timeout.ms for it.
     */
    public void leaveGroup(String reason, boolean revoke, boolean evenIfStatic) {
        Set<TopicPartition> owned = subscriptions.assignedPartitions();
        if (revoke && subscriptions.hasAutoAssignment() && !owned.isEmpty()) {
            try {
                subscriptions.listener().onPartitionsRevoked(owned);
            } catch (RuntimeException e) {
                log.warn("group {}: onPartitionsRevoked threw", settings.groupId(), e);
            }
        }
        Node c;
        String member;
        synchronized (this) {
            c = coordinator;
            member = memberId;
            if ((settings.groupInstanceId() == null || evenIfStatic) && c != null && !member.isEmpty() && generation >= 0) {
                sendLeave(c, member, reason);
            }
            generation = -1;
            memberId = "";
            state = State.UNJOINED;
            synced = false;
            rejoinNeeded = true;
        }
    }

    private void sendLeave(Node c, String member, String reason) {
        LeaveGroupRequest req = new LeaveGroupRequest().setGroupId(settings.groupId()).setMemberId(member)
            .setMembers(new ArrayList<>(List.of(new LeaveGroupRequest.MemberIdentity().setMemberId(member)
                .setGroupInstanceId(settings.groupInstanceId()).setReason(reason))));
        CompletableFuture<ApiMessage> f = client.send(NodeSelector.fixed(c), nonRetrying(req), time.milliseconds() + 5_000L);
        pendingLeave = f;
    }

    private volatile CompletableFuture<ApiMessage> pendingLeave;

    @Override
    public void close() {
        CompletableFuture<ApiMessage> leave = pendingLeave;
        if (leave != null) {
            try {
                leave.get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // best effort
            }
        }
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            heartbeatThread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Members' owned partitions as the coordinator sees them (for tests and tools). */
    public synchronized Collection<TopicPartition> ownedPartitions() {
        return subscriptions.assignedPartitions();
    }

    public ConsumerRebalanceListener listener() {
        return subscriptions.listener();
    }
}
