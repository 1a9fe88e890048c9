package io.weir.broker.group;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicService;
import io.weir.log.Time;
import io.weir.log.TopicPartition;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The broker-side role of Kafka's classic group protocol: membership (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, static members), the group state machine ({@link GroupState}), and
 * committed offsets, made durable in {@code __consumer_offsets} before they are acknowledged.
 *
 * <p>Join and sync responses that must wait (for other members, or for the leader's assignment) are
 * given to callbacks later, from whichever thread completes them. Timers (session expiry, rebalance
 * timeout, initial rebalance delay, sync timeout) are checked by {@link #doWork(long)}, a duty cycle
 * that a scheduler thread runs every {@value #TICK_MS} ms, or a test runs with a mock clock.
 *
 * <p>Thread-safe: each group's state is guarded by the group's own lock; callbacks run under it and
 * must not block (they queue a response).
 */
public final class GroupCoordinator {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);
    static final long TICK_MS = 100;

    /** A member's JoinGroup as the coordinator needs it. */
    record JoinRequest(String groupId, String memberId, String groupInstanceId, boolean requireKnownMemberId,
                       String clientId, String clientHost, int rebalanceTimeoutMs, int sessionTimeoutMs,
                       String protocolType, List<Member.Protocol> protocols) {
    }

    /** A member's view of a completed join phase (the leader also gets every member's metadata). */
    record JoinResult(Errors error, String memberId, int generationId, String protocolType, String protocolName,
                      String leaderId, boolean skipAssignment, List<JoinedMember> members) {
        static JoinResult error(String memberId, Errors e) {
            return new JoinResult(e, memberId, -1, null, null, "", false, List.of());
        }
    }

    record JoinedMember(String memberId, String groupInstanceId, byte[] metadata) {
    }

    record SyncResult(Errors error, String protocolType, String protocolName, byte[] assignment) {
        static SyncResult error(Errors e) {
            return new SyncResult(e, null, null, Member.EMPTY_BYTES);
        }
    }

    record MemberIdentity(String memberId, String groupInstanceId) {
    }

    record LeaveResult(Errors error, List<Errors> memberErrors) {
    }

    /** Committed offsets of a group; a null value means "no commit". */
    record FetchResult(Errors error, Map<TopicPartition, CommittedOffset> offsets) {
    }

    record Overview(String groupId, String protocolType, String state) {
    }

    record DescribedMember(String memberId, String groupInstanceId, String clientId, String clientHost,
                           byte[] metadata, byte[] assignment) {
    }

    record Described(Errors error, String groupId, String state, String protocolType, String protocolData,
                     List<DescribedMember> members) {
    }

    record OffsetDeleteResult(Errors error, Map<TopicPartition, Errors> partitions) {
    }

    private final GroupMetadataManager manager;
    private final Time time;
    private final Predicate<TopicPartition> partitionExists;
    private final int minSessionTimeoutMs;
    private final int maxSessionTimeoutMs;
    private final int initialRebalanceDelayMs;
    private final int maxGroupSize;
    private final int maxMetadataBytes;
    private final long offsetsRetentionMs;
    private final long retentionCheckIntervalMs;
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    private ScheduledExecutorService scheduler;

    public GroupCoordinator(BrokerConfig config, ReplicaManager replicaManager, TopicService topics,
                            MetadataStore store, Time time) {
        this.manager = new GroupMetadataManager(config, replicaManager, topics, store);
        this.time = time;
        this.partitionExists = tp -> replicaManager.partition(tp) != null;
        this.minSessionTimeoutMs = config.getInt(BrokerConfig.GROUP_MIN_SESSION_TIMEOUT_MS);
        this.maxSessionTimeoutMs = config.getInt(BrokerConfig.GROUP_MAX_SESSION_TIMEOUT_MS);
        this.initialRebalanceDelayMs = config.getInt(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS);
        this.maxGroupSize = config.getInt(BrokerConfig.GROUP_MAX_SIZE);
        this.maxMetadataBytes = config.getInt(BrokerConfig.OFFSET_METADATA_MAX_BYTES);
        this.offsetsRetentionMs = config.getInt(BrokerConfig.OFFSETS_RETENTION_MINUTES) * 60_000L;
        this.retentionCheckIntervalMs = config.getLong(BrokerConfig.OFFSETS_RETENTION_CHECK_INTERVAL_MS);
    }

    // ------------------------------------------------------------------------------ life cycle

    /**
     * Starts the timers and loads every partition of {@code __consumer_offsets} in the background;
     * until a partition is loaded its groups are answered with COORDINATOR_LOAD_IN_PROGRESS.
     */
    public synchronized void startup() {
        scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "weir-group-coordinator");
            t.setDaemon(true);
            return t;
        });
        if (manager.topicExists()) {
            for (int p = 0; p < manager.partitionCount(); p++) {
                manager.setStatus(p, GroupMetadataManager.Status.LOADING);
            }
            for (int p = 0; p < manager.partitionCount(); p++) {
                int partition = p;
                scheduler.execute(() -> duty("load", () -> loadPartition(partition, time.milliseconds())));
            }
        }
        scheduler.scheduleWithFixedDelay(() -> duty("group timers", () -> doWork(time.milliseconds())), TICK_MS,
            TICK_MS, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> duty("offset expiry", () -> expireOffsets(time.milliseconds())),
            retentionCheckIntervalMs, retentionCheckIntervalMs, TimeUnit.MILLISECONDS);
    }

    public synchronized void shutdown() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void duty(String name, Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            log.error("group coordinator {} failed", name, e);
        }
    }

    /** Loads every partition now, on the calling thread (tests). */
    void loadAll(long nowMs) {
        if (manager.topicExists()) {
            for (int p = 0; p < manager.partitionCount(); p++) {
                loadPartition(p, nowMs);
            }
        }
    }

    GroupMetadataManager manager() {
        return manager;
    }

    /** Whether this broker coordinates the group now; creates {@code __consumer_offsets} on first use. */
    Errors findCoordinator(String groupId) {
        if (!manager.ensureTopic()) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        return manager.status(manager.partitionFor(groupId)) == GroupMetadataManager.Status.NOT_HOSTED
            ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.NONE;
    }

    private Errors validate(String groupId, boolean allowEmptyId) {
        if (groupId == null || (!allowEmptyId && groupId.isEmpty())) {
            return Errors.INVALID_GROUP_ID;
        }
        if (!manager.topicExists()) {
            return Errors.NOT_COORDINATOR;
        }
        return switch (manager.status(manager.partitionFor(groupId))) {
            case NOT_HOSTED -> Errors.NOT_COORDINATOR;
            case LOADING -> Errors.COORDINATOR_LOAD_IN_PROGRESS;
            case LOADED -> Errors.NONE;
        };
    }

    // ------------------------------------------------------------------------------ JoinGroup

    void joinGroup(JoinRequest req, Consumer<JoinResult> callback) {
        Errors e = validate(req.groupId(), false);
        if (e == Errors.NONE && (req.sessionTimeoutMs() < minSessionTimeoutMs || req.sessionTimeoutMs() > maxSessionTimeoutMs)) {
            e = Errors.INVALID_SESSION_TIMEOUT;
        }
        if (e != Errors.NONE) {
            callback.accept(JoinResult.error(req.memberId(), e));
            return;
        }
        long now = time.milliseconds();
        boolean unknownMember = req.memberId().isEmpty();
        Group group = unknownMember ? groups.computeIfAbsent(req.groupId(), id -> new Group(id, GroupState.EMPTY, now))
            : groups.get(req.groupId());
        if (group == null) {
            callback.accept(JoinResult.error(req.memberId(), Errors.UNKNOWN_MEMBER_ID));
            return;
        }
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                // removed meanwhile: the client finds the coordinator again and retries on a fresh group
                callback.accept(JoinResult.error(req.memberId(), Errors.COORDINATOR_NOT_AVAILABLE));
            } else if (unknownMember) {
                joinUnknownMember(group, req, callback, now);
            } else {
                joinKnownMember(group, req, callback, now);
            }
        }
    }

    private void joinUnknownMember(Group group, JoinRequest req, Consumer<JoinResult> callback, long now) {
        if (!group.supportsProtocols(req.protocolType(), req.protocols())) {
            callback.accept(JoinResult.error("", Errors.INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        String newId = req.clientId() + "-" + UUID.randomUUID();
        if (req.groupInstanceId() != null) {
            String existing = group.staticMembers.get(req.groupInstanceId());
            if (existing != null) {
                replaceStaticMember(group, group.members.get(existing), newId, req, callback, now);
                return;
            }
        }
        if (group.members.size() + group.pendingMembers.size() >= maxGroupSize) {
            callback.accept(JoinResult.error("", Errors.GROUP_MAX_SIZE_REACHED));
            return;
        }
        if (req.groupInstanceId() == null && req.requireKnownMemberId()) {
            // KIP-394: the member must come back with this id, so a lost response cannot leave a ghost member
            group.pendingMembers.put(newId, now + req.sessionTimeoutMs());
            callback.accept(JoinResult.error(newId, Errors.MEMBER_ID_REQUIRED));
            return;
        }
        addMemberAndRebalance(group, newId, req, callback, now);
    }

    private void joinKnownMember(Group group, JoinRequest req, Consumer<JoinResult> callback, long now) {
        String id = req.memberId();
        if (group.pendingMembers.remove(id) != null) {
            addMemberAndRebalance(group, id, req, callback, now);
            return;
        }
        if (group.isStaticMemberFenced(id, req.groupInstanceId())) {
            callback.accept(JoinResult.error(id, Errors.FENCED_INSTANCE_ID));
            return;
        }
        Member member = group.members.get(id);
        if (member == null) {
            callback.accept(JoinResult.error(id, Errors.UNKNOWN_MEMBER_ID));
            return;
        }
        if (!group.supportsProtocols(req.protocolType(), req.protocols())) {
            callback.accept(JoinResult.error(id, Errors.INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        switch (group.state()) {
            case PREPARING_REBALANCE -> updateMemberAndRebalance(group, member, req, callback, now);
            case COMPLETING_REBALANCE -> {
                if (member.sameProtocols(req.protocols())) {
                    // the member lost our join response: give it the same generation again
                    callback.accept(currentGeneration(group, member, false));
                } else {
                    updateMemberAndRebalance(group, member, req, callback, now);
                }
            }
            case STABLE -> {
                if (group.isLeader(id) || !member.sameProtocols(req.protocols())) {
                    updateMemberAndRebalance(group, member, req, callback, now);
                } else {
                    member.heartbeatDeadlineMs = now + member.sessionTimeoutMs;
                    callback.accept(currentGeneration(group, member, false));
                }
            }
            default -> callback.accept(JoinResult.error(id, Errors.UNKNOWN_MEMBER_ID));
        }
    }

    private JoinResult currentGeneration(Group group, Member member, boolean skipAssignment) {
        boolean leader = group.isLeader(member.memberId);
        return new JoinResult(Errors.NONE, member.memberId, group.generationId, group.protocolType, group.protocolName,
            group.leaderId, skipAssignment, leader ? membersMetadata(group) : List.of());
    }

    private static List<JoinedMember> membersMetadata(Group group) {
        List<JoinedMember> out = new ArrayList<>(group.members.size());
        for (Member m : group.members.values()) {
            byte[] md = m.metadata(group.protocolName);
            out.add(new JoinedMember(m.memberId, m.groupInstanceId, md == null ? Member.EMPTY_BYTES : md));
        }
        return out;
    }

    private void addMemberAndRebalance(Group group, String memberId, JoinRequest req, Consumer<JoinResult> callback,
                                       long now) {
        Member m = new Member(memberId, req.groupInstanceId(), req.clientId(), req.clientHost(), req.rebalanceTimeoutMs(),
            req.sessionTimeoutMs(), req.protocolType(), req.protocols());
        m.isNew = true;
        m.awaitingJoin = callback;
        m.heartbeatDeadlineMs = now + req.sessionTimeoutMs();
        boolean wasPreparing = group.is(GroupState.PREPARING_REBALANCE);
        group.add(m);
        if (wasPreparing && group.initialDelayActive) {
            group.joinDeadlineMs = Math.min(now + initialRebalanceDelayMs, group.initialDelayLimitMs);
        }
        maybePrepareRebalance(group, now, "member " + memberId + " joined");
        checkJoinComplete(group, now);
    }

    private void updateMemberAndRebalance(Group group, Member m, JoinRequest req, Consumer<JoinResult> callback,
                                          long now) {
        if (m.awaitingJoin != null && m.awaitingJoin != callback) {
            m.awaitingJoin.accept(JoinResult.error(m.memberId, Errors.REBALANCE_IN_PROGRESS));
        }
        m.clientId = req.clientId();
        m.clientHost = req.clientHost();
        m.rebalanceTimeoutMs = req.rebalanceTimeoutMs();
        m.sessionTimeoutMs = req.sessionTimeoutMs();
        m.protocols = req.protocols();
        m.awaitingJoin = callback;
        m.heartbeatDeadlineMs = now + req.sessionTimeoutMs();
        maybePrepareRebalance(group, now, "member " + m.memberId + " rejoined");
        checkJoinComplete(group, now);
    }

    /** A static member came back from a new process: the old member id is fenced and replaced. */
    private void replaceStaticMember(Group group, Member old, String newId, JoinRequest req,
                                     Consumer<JoinResult> callback, long now) {
        if (old.awaitingJoin != null) {
            old.awaitingJoin.accept(JoinResult.error(old.memberId, Errors.FENCED_INSTANCE_ID));
            old.awaitingJoin = null;
        }
        if (old.awaitingSync != null) {
            old.awaitingSync.accept(SyncResult.error(Errors.FENCED_INSTANCE_ID));
            old.awaitingSync = null;
        }
        boolean wasLeader = group.isLeader(old.memberId);
        boolean wasPendingSync = group.pendingSync.remove(old.memberId);
        group.members.remove(old.memberId);
        Member m = old.withNewId(newId);
        m.clientId = req.clientId();
        m.clientHost = req.clientHost();
        m.rebalanceTimeoutMs = req.rebalanceTimeoutMs();
        m.sessionTimeoutMs = req.sessionTimeoutMs();
        m.heartbeatDeadlineMs = now + req.sessionTimeoutMs();
        group.members.put(newId, m);
        group.staticMembers.put(m.groupInstanceId, newId);
        if (wasLeader) {
            group.leaderId = newId;
        }
        if (wasPendingSync) {
            group.pendingSync.add(newId);
        }
        log.info("static member {} of group {} rejoined as {} (was {})", m.groupInstanceId, group.groupId, newId,
            old.memberId);
        if (group.is(GroupState.STABLE) && m.sameProtocols(req.protocols())) {
            // nothing the assignment depends on changed: no rebalance, just remember the new id
            Errors e = persistGroup(group, now);
            if (e != Errors.NONE) {
                log.warn("cannot store the new member id of static member {} in group {}: {}", m.groupInstanceId,
                    group.groupId, e);
            }
            callback.accept(currentGeneration(group, m, wasLeader));
            return;
        }
        updateMemberAndRebalance(group, m, req, callback, now);
    }

    private void maybePrepareRebalance(Group group, long now, String reason) {
        if (group.is(GroupState.STABLE) || group.is(GroupState.COMPLETING_REBALANCE) || group.is(GroupState.EMPTY)) {
            prepareRebalance(group, now, reason);
        }
    }

    private void prepareRebalance(Group group, long now, String reason) {
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            resetAndPropagateAssignmentError(group, Errors.REBALANCE_IN_PROGRESS);
        }
        boolean fromEmpty = group.is(GroupState.EMPTY);
        group.transitionTo(GroupState.PREPARING_REBALANCE, now);
        group.pendingSync.clear();
        group.syncDeadlineMs = Long.MAX_VALUE;
        int rebalanceMs = group.maxRebalanceTimeoutMs();
        if (fromEmpty && initialRebalanceDelayMs > 0) {
            group.initialDelayActive = true;
            group.initialDelayLimitMs = now + rebalanceMs;
            group.joinDeadlineMs = now + Math.min(initialRebalanceDelayMs, rebalanceMs);
        } else {
            group.initialDelayActive = false;
            group.joinDeadlineMs = now + rebalanceMs;
        }
        log.info("group {} is rebalancing (generation {}): {}", group.groupId, group.generationId, reason);
    }

    private static void resetAndPropagateAssignmentError(Group group, Errors error) {
        for (Member m : group.members.values()) {
            m.assignment = Member.EMPTY_BYTES;
            if (m.awaitingSync != null) {
                m.awaitingSync.accept(SyncResult.error(error));
                m.awaitingSync = null;
            }
        }
    }

    private void checkJoinComplete(Group group, long now) {
        if (group.is(GroupState.PREPARING_REBALANCE) && !group.initialDelayActive && group.allMembersJoined()) {
            completeJoin(group, now);
        }
    }

    /** Ends the join phase: drops members that did not rejoin, starts the next generation, answers the joins. */
    private void completeJoin(Group group, long now) {
        group.initialDelayActive = false;
        group.joinDeadlineMs = Long.MAX_VALUE;
        for (Member m : new ArrayList<>(group.members.values())) {
            if (m.awaitingJoin == null) {
                log.info("member {} of group {} did not rejoin in time and is removed", m.memberId, group.groupId);
                group.remove(m.memberId);
            }
        }
        group.generationId++;
        if (group.members.isEmpty()) {
            group.protocolName = null;
            group.leaderId = null;
            group.transitionTo(GroupState.EMPTY, now);
            Errors e = persistGroup(group, now);
            if (e != Errors.NONE) {
                log.warn("cannot store empty group {} generation {}: {}", group.groupId, group.generationId, e);
            }
            log.info("group {} is empty at generation {}", group.groupId, group.generationId);
            return;
        }
        group.protocolName = group.selectProtocol();
        if (group.leaderId == null || !group.has(group.leaderId)) {
            group.leaderId = group.members.keySet().iterator().next();
        }
        group.transitionTo(GroupState.COMPLETING_REBALANCE, now);
        group.pendingSync.addAll(group.members.keySet());
        group.syncDeadlineMs = now + group.maxRebalanceTimeoutMs();
        List<JoinedMember> all = membersMetadata(group);
        log.info("group {} generation {} with {} members, protocol {}, leader {}", group.groupId, group.generationId,
            group.members.size(), group.protocolName, group.leaderId);
        for (Member m : group.members.values()) {
            Consumer<JoinResult> cb = m.awaitingJoin;
            m.awaitingJoin = null;
            m.isNew = false;
            m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
            cb.accept(new JoinResult(Errors.NONE, m.memberId, group.generationId, group.protocolType,
                group.protocolName, group.leaderId, false, group.isLeader(m.memberId) ? all : List.of()));
        }
    }

    // ------------------------------------------------------------------------------ SyncGroup

    void syncGroup(String groupId, int generationId, String memberId, String groupInstanceId, String protocolType,
                   String protocolName, Map<String, byte[]> assignments, Consumer<SyncResult> callback) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            callback.accept(SyncResult.error(e));
            return;
        }
        Group group = groups.get(groupId);
        if (group == null) {
            callback.accept(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
            return;
        }
        long now = time.milliseconds();
        synchronized (group) {
            Member m = group.members.get(memberId);
            if (group.is(GroupState.DEAD)) {
                callback.accept(SyncResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
            } else if (group.isStaticMemberFenced(memberId, groupInstanceId)) {
                callback.accept(SyncResult.error(Errors.FENCED_INSTANCE_ID));
            } else if (m == null) {
                callback.accept(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
            } else if (generationId != group.generationId) {
                callback.accept(SyncResult.error(Errors.ILLEGAL_GENERATION));
            } else if ((protocolType != null && !protocolType.equals(group.protocolType))
                || (protocolName != null && !protocolName.equals(group.protocolName))) {
                callback.accept(SyncResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL));
            } else {
                switch (group.state()) {
                    case PREPARING_REBALANCE -> callback.accept(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
                    case COMPLETING_REBALANCE -> {
                        m.awaitingSync = callback;
                        m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
                        group.pendingSync.remove(memberId);
                        if (group.isLeader(memberId)) {
                            completeSync(group, assignments, now);
                        }
                    }
                    case STABLE -> {
                        m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
                        group.pendingSync.remove(memberId);
                        callback.accept(new SyncResult(Errors.NONE, group.protocolType, group.protocolName, m.assignment));
                    }
                    default -> callback.accept(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
                }
            }
        }
    }

    /** The leader's assignment arrived: store the group, then answer every member waiting for it. */
    private void completeSync(Group group, Map<String, byte[]> assignments, long now) {
        for (Member m : group.members.values()) {
            byte[] a = assignments.get(m.memberId);
            m.assignment = a == null ? Member.EMPTY_BYTES : a;
        }
        Errors e = persistGroup(group, now);
        if (e != Errors.NONE) {
            log.warn("cannot store group {} generation {}: {}", group.groupId, group.generationId, e);
            resetAndPropagateAssignmentError(group, e);
            prepareRebalance(group, now, "storing the assignment failed");
            return;
        }
        group.transitionTo(GroupState.STABLE, now);
        for (Member m : group.members.values()) {
            if (m.awaitingSync != null) {
                m.awaitingSync.accept(new SyncResult(Errors.NONE, group.protocolType, group.protocolName, m.assignment));
                m.awaitingSync = null;
            }
        }
    }

    // ------------------------------------------------------------------------------ Heartbeat, LeaveGroup

    Errors heartbeat(String groupId, String memberId, String groupInstanceId, int generationId) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return e;
        }
        Group group = groups.get(groupId);
        if (group == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        long now = time.milliseconds();
        synchronized (group) {
            Member m = group.members.get(memberId);
            if (group.is(GroupState.DEAD)) {
                return Errors.COORDINATOR_NOT_AVAILABLE;
            } else if (group.isStaticMemberFenced(memberId, groupInstanceId)) {
                return Errors.FENCED_INSTANCE_ID;
            } else if (m == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            } else if (generationId != group.generationId) {
                return Errors.ILLEGAL_GENERATION;
            }
            return switch (group.state()) {
                case PREPARING_REBALANCE -> {
                    m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
                    yield Errors.REBALANCE_IN_PROGRESS;
                }
                case COMPLETING_REBALANCE, STABLE -> {
                    m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
                    yield Errors.NONE;
                }
                default -> Errors.UNKNOWN_MEMBER_ID;
            };
        }
    }

    LeaveResult leaveGroup(String groupId, List<MemberIdentity> leaving) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return new LeaveResult(e, leaving.stream().map(x -> e).toList());
        }
        Group group = groups.get(groupId);
        if (group == null) {
            return new LeaveResult(Errors.NONE, leaving.stream().map(x -> Errors.UNKNOWN_MEMBER_ID).toList());
        }
        long now = time.milliseconds();
        synchronized (group) {
            if (group.is(GroupState.DEAD)) {
                return new LeaveResult(Errors.COORDINATOR_NOT_AVAILABLE,
                    leaving.stream().map(x -> Errors.COORDINATOR_NOT_AVAILABLE).toList());
            }
            List<Errors> out = new ArrayList<>(leaving.size());
            for (MemberIdentity who : leaving) {
                String id = who.memberId();
                if ((id == null || id.isEmpty()) && who.groupInstanceId() != null) {
                    id = group.staticMembers.get(who.groupInstanceId()); // admin removal by instance id
                }
                if (id == null || id.isEmpty()) {
                    out.add(Errors.UNKNOWN_MEMBER_ID);
                } else if (group.isStaticMemberFenced(id, who.groupInstanceId())) {
                    out.add(Errors.FENCED_INSTANCE_ID);
                } else if (group.pendingMembers.remove(id) != null) {
                    checkJoinComplete(group, now);
                    out.add(Errors.NONE);
                } else if (!group.has(id)) {
                    out.add(Errors.UNKNOWN_MEMBER_ID);
                } else {
                    removeMemberAndUpdate(group, id, now, "member " + id + " left");
                    out.add(Errors.NONE);
                }
            }
            return new LeaveResult(Errors.NONE, out);
        }
    }

    private void removeMemberAndUpdate(Group group, String memberId, long now, String reason) {
        Member m = group.members.get(memberId);
        if (m.awaitingJoin != null) {
            m.awaitingJoin.accept(JoinResult.error(memberId, Errors.UNKNOWN_MEMBER_ID));
            m.awaitingJoin = null;
        }
        if (m.awaitingSync != null) {
            m.awaitingSync.accept(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
            m.awaitingSync = null;
        }
        group.remove(memberId);
        switch (group.state()) {
            case STABLE, COMPLETING_REBALANCE -> {
                prepareRebalance(group, now, reason);
                checkJoinComplete(group, now); // the last member left: the group is empty at once
            }
            case PREPARING_REBALANCE -> checkJoinComplete(group, now);
            default -> { }
        }
    }

    // ------------------------------------------------------------------------------ offsets

    Map<TopicPartition, Errors> commitOffsets(String groupId, String memberId, String groupInstanceId, int generationId,
                                              Map<TopicPartition, CommittedOffset> offsets) {
        Errors e = validate(groupId, true);
        if (e != Errors.NONE) {
            return allWith(offsets.keySet(), e);
        }
        Group group = groups.get(groupId);
        long now = time.milliseconds();
        if (group == null) {
            if (generationId >= 0) {
                return allWith(offsets.keySet(), Errors.ILLEGAL_GENERATION);
            }
            // a group without membership (assign() and commit): the coordinator only stores its offsets
            group = groups.computeIfAbsent(groupId, id -> new Group(id, GroupState.EMPTY, now));
        }
        synchronized (group) {
            Member m = memberId == null ? null : group.members.get(memberId);
            if (group.is(GroupState.DEAD)) {
                return allWith(offsets.keySet(), Errors.COORDINATOR_NOT_AVAILABLE);
            } else if (generationId < 0 && group.is(GroupState.EMPTY)) {
                return doCommit(group, offsets, now);
            } else if (group.isStaticMemberFenced(memberId, groupInstanceId)) {
                return allWith(offsets.keySet(), Errors.FENCED_INSTANCE_ID);
            } else if (m == null) {
                return allWith(offsets.keySet(), Errors.UNKNOWN_MEMBER_ID);
            } else if (generationId != group.generationId) {
                return allWith(offsets.keySet(), Errors.ILLEGAL_GENERATION);
            } else if (group.is(GroupState.COMPLETING_REBALANCE)) {
                return allWith(offsets.keySet(), Errors.REBALANCE_IN_PROGRESS);
            }
            m.heartbeatDeadlineMs = now + m.sessionTimeoutMs;
            return doCommit(group, offsets, now);
        }
    }

    private Map<TopicPartition, Errors> doCommit(Group group, Map<TopicPartition, CommittedOffset> offsets, long now) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        Map<TopicPartition, CommittedOffset> accepted = new LinkedHashMap<>();
        List<GroupMetadataManager.Entry> entries = new ArrayList<>();
        for (Map.Entry<TopicPartition, CommittedOffset> o : offsets.entrySet()) {
            TopicPartition tp = o.getKey();
            if (!partitionExists.test(tp)) {
                out.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            } else if (o.getValue().metadata().length() > maxMetadataBytes) {
                out.put(tp, Errors.OFFSET_METADATA_TOO_LARGE);
            } else {
                CommittedOffset c = new CommittedOffset(o.getValue().offset(), o.getValue().leaderEpoch(),
                    o.getValue().metadata(), now);
                accepted.put(tp, c);
                entries.add(new GroupMetadataManager.Entry(GroupRecords.offsetKey(group.groupId, tp),
                    GroupRecords.offsetValue(c)));
            }
        }
        if (!entries.isEmpty()) {
            Errors e = manager.append(group.groupId, entries, now);
            if (e == Errors.NONE) {
                group.offsets.putAll(accepted);
            }
            for (TopicPartition tp : accepted.keySet()) {
                out.put(tp, e);
            }
        }
        Map<TopicPartition, Errors> ordered = new LinkedHashMap<>();
        for (TopicPartition tp : offsets.keySet()) {
            ordered.put(tp, out.get(tp));
        }
        return ordered;
    }

    private static Map<TopicPartition, Errors> allWith(Set<TopicPartition> tps, Errors e) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        for (TopicPartition tp : tps) {
            out.put(tp, e);
        }
        return out;
    }

    /** The group's committed offsets for {@code partitions}, or all of them when null. */
    FetchResult fetchOffsets(String groupId, List<TopicPartition> partitions) {
        Errors e = validate(groupId, true);
        if (e != Errors.NONE) {
            return new FetchResult(e, Map.of());
        }
        Map<TopicPartition, CommittedOffset> out = new LinkedHashMap<>();
        Group group = groups.get(groupId);
        if (group == null) {
            if (partitions != null) {
                partitions.forEach(tp -> out.put(tp, null));
            }
            return new FetchResult(Errors.NONE, out);
        }
        synchronized (group) {
            if (partitions == null) {
                out.putAll(group.offsets);
            } else {
                partitions.forEach(tp -> out.put(tp, group.offsets.get(tp)));
            }
        }
        return new FetchResult(Errors.NONE, out);
    }

    // ------------------------------------------------------------------------------ admin

    /** Groups of every loaded partition; COORDINATOR_LOAD_IN_PROGRESS (with what is known) while loading. */
    List<Overview> listGroups(Set<String> statesLowerCase, Set<String> typesLowerCase, Errors[] error) {
        error[0] = Errors.NONE;
        for (int p = 0; manager.topicExists() && p < manager.partitionCount(); p++) {
            if (manager.status(p) == GroupMetadataManager.Status.LOADING) {
                error[0] = Errors.COORDINATOR_LOAD_IN_PROGRESS;
            }
        }
        List<Overview> out = new ArrayList<>();
        if (!typesLowerCase.isEmpty() && !typesLowerCase.contains("classic")) {
            return out;
        }
        for (Group g : groups.values()) {
            synchronized (g) {
                if (g.is(GroupState.DEAD)) {
                    continue;
                }
                if (statesLowerCase.isEmpty() || statesLowerCase.contains(g.state().wireName().toLowerCase(java.util.Locale.ROOT))) {
                    out.add(new Overview(g.groupId, g.protocolType == null ? "" : g.protocolType, g.state().wireName()));
                }
            }
        }
        return out;
    }

    /** The group's state and members; null when the group does not exist. */
    Described describeGroup(String groupId) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return new Described(e, groupId, "", "", "", List.of());
        }
        Group g = groups.get(groupId);
        if (g == null) {
            return null;
        }
        synchronized (g) {
            if (g.is(GroupState.DEAD)) {
                return null;
            }
            boolean stable = g.is(GroupState.STABLE);
            List<DescribedMember> members = new ArrayList<>();
            for (Member m : g.members.values()) {
                byte[] md = stable ? m.metadata(g.protocolName) : null;
                members.add(new DescribedMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    md == null ? Member.EMPTY_BYTES : md, stable ? m.assignment : Member.EMPTY_BYTES));
            }
            return new Described(Errors.NONE, groupId, g.state().wireName(), g.protocolType == null ? "" : g.protocolType,
                stable && g.protocolName != null ? g.protocolName : "", members);
        }
    }

    Errors deleteGroup(String groupId) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return e;
        }
        Group g = groups.get(groupId);
        if (g == null) {
            return Errors.GROUP_ID_NOT_FOUND;
        }
        long now = time.milliseconds();
        synchronized (g) {
            if (g.is(GroupState.DEAD)) {
                return Errors.GROUP_ID_NOT_FOUND;
            }
            if (!g.is(GroupState.EMPTY)) {
                return Errors.NON_EMPTY_GROUP;
            }
            Errors written = removeGroup(g, now);
            if (written == Errors.NONE) {
                log.info("deleted group {}", groupId);
            }
            return written;
        }
    }

    /** Writes tombstones for the group and all its offsets, then forgets it. Caller holds the group lock. */
    private Errors removeGroup(Group g, long now) {
        List<GroupMetadataManager.Entry> entries = new ArrayList<>();
        for (TopicPartition tp : g.offsets.keySet()) {
            entries.add(new GroupMetadataManager.Entry(GroupRecords.offsetKey(g.groupId, tp), null));
        }
        entries.add(new GroupMetadataManager.Entry(GroupRecords.groupKey(g.groupId), null));
        Errors e = manager.append(g.groupId, entries, now);
        if (e != Errors.NONE) {
            return e;
        }
        g.offsets.clear();
        g.transitionTo(GroupState.DEAD, now);
        groups.remove(g.groupId, g);
        return Errors.NONE;
    }

    OffsetDeleteResult deleteOffsets(String groupId, List<TopicPartition> partitions) {
        Errors e = validate(groupId, false);
        if (e != Errors.NONE) {
            return new OffsetDeleteResult(e, Map.of());
        }
        Group g = groups.get(groupId);
        if (g == null) {
            return new OffsetDeleteResult(Errors.GROUP_ID_NOT_FOUND, Map.of());
        }
        long now = time.milliseconds();
        synchronized (g) {
            if (g.is(GroupState.DEAD)) {
                return new OffsetDeleteResult(Errors.GROUP_ID_NOT_FOUND, Map.of());
            }
            if (!g.is(GroupState.EMPTY) && g.protocolType != null && !"consumer".equals(g.protocolType)) {
                return new OffsetDeleteResult(Errors.NON_EMPTY_GROUP, Map.of());
            }
            Set<String> subscribed = g.is(GroupState.EMPTY) ? Set.of() : g.subscribedTopics();
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            List<GroupMetadataManager.Entry> entries = new ArrayList<>();
            List<TopicPartition> deleting = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                if (subscribed == null || subscribed.contains(tp.topic())) {
                    out.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
                } else {
                    out.put(tp, Errors.NONE);
                    if (g.offsets.containsKey(tp)) {
                        deleting.add(tp);
                        entries.add(new GroupMetadataManager.Entry(GroupRecords.offsetKey(groupId, tp), null));
                    }
                }
            }
            if (!entries.isEmpty()) {
                Errors written = manager.append(groupId, entries, now);
                if (written != Errors.NONE) {
                    return new OffsetDeleteResult(written, Map.of());
                }
                deleting.forEach(g.offsets::remove);
            }
            return new OffsetDeleteResult(Errors.NONE, out);
        }
    }

    // ------------------------------------------------------------------------------ timers

    /**
     * One pass of the timers: expires members whose session ran out and member ids that were never
     * used, ends join phases at their deadline, and drops members that never synced. Returns the
     * number of groups it changed.
     */
    public int doWork(long nowMs) {
        int changed = 0;
        for (Group g : groups.values()) {
            synchronized (g) {
                if (g.is(GroupState.DEAD)) {
                    continue;
                }
                boolean touched = g.pendingMembers.values().removeIf(deadline -> deadline <= nowMs);
                if (touched) {
                    checkJoinComplete(g, nowMs);
                }
                for (Member m : new ArrayList<>(g.members.values())) {
                    if (m.awaitingJoin == null && m.awaitingSync == null && m.heartbeatDeadlineMs <= nowMs
                        && g.has(m.memberId)) {
                        log.info("member {} of group {} missed its session timeout of {} ms", m.memberId, g.groupId,
                            m.sessionTimeoutMs);
                        removeMemberAndUpdate(g, m.memberId, nowMs, "member " + m.memberId + " expired");
                        touched = true;
                    }
                }
                if (g.is(GroupState.PREPARING_REBALANCE) && nowMs >= g.joinDeadlineMs) {
                    touched = true;
                    if (g.initialDelayActive) {
                        g.initialDelayActive = false;
                        g.joinDeadlineMs = g.initialDelayLimitMs;
                        checkJoinComplete(g, nowMs);
                    } else {
                        completeJoin(g, nowMs);
                    }
                }
                if ((g.is(GroupState.COMPLETING_REBALANCE) || g.is(GroupState.STABLE)) && !g.pendingSync.isEmpty()
                    && nowMs >= g.syncDeadlineMs) {
                    touched = true;
                    for (String id : new ArrayList<>(g.pendingSync)) {
                        if (g.has(id)) {
                            log.info("member {} of group {} did not sync in time and is removed", id, g.groupId);
                            removeMemberAndUpdate(g, id, nowMs, "member " + id + " did not sync");
                        }
                    }
                    g.pendingSync.clear();
                }
                if (touched) {
                    changed++;
                }
            }
        }
        return changed;
    }

    /**
     * Deletes (with tombstones) the offsets of groups that have had no members for
     * {@code offsets.retention.minutes}, and forgets groups left with nothing. Returns offsets removed.
     */
    public int expireOffsets(long nowMs) {
        int removed = 0;
        for (Group g : groups.values()) {
            synchronized (g) {
                if (!g.is(GroupState.EMPTY) || !g.pendingMembers.isEmpty()) {
                    continue;
                }
                List<TopicPartition> expired = new ArrayList<>();
                for (Map.Entry<TopicPartition, CommittedOffset> o : g.offsets.entrySet()) {
                    // a group that had members counts from when it became empty; a simple one from each commit
                    long since = g.protocolType != null ? Math.max(g.stateSinceMs, o.getValue().commitTimestampMs())
                        : o.getValue().commitTimestampMs();
                    if (nowMs - since >= offsetsRetentionMs) {
                        expired.add(o.getKey());
                    }
                }
                if (expired.size() == g.offsets.size()) {
                    int n = expired.size();
                    if (removeGroup(g, nowMs) == Errors.NONE) {
                        removed += n;
                        if (n > 0) {
                            log.info("group {} expired with its {} offsets", g.groupId, n);
                        }
                    }
                } else if (!expired.isEmpty()) {
                    List<GroupMetadataManager.Entry> entries = new ArrayList<>();
                    for (TopicPartition tp : expired) {
                        entries.add(new GroupMetadataManager.Entry(GroupRecords.offsetKey(g.groupId, tp), null));
                    }
                    if (manager.append(g.groupId, entries, nowMs) == Errors.NONE) {
                        expired.forEach(g.offsets::remove);
                        removed += expired.size();
                    }
                }
            }
        }
        return removed;
    }

    // ------------------------------------------------------------------------------ durability

    private Errors persistGroup(Group g, long now) {
        List<GroupRecords.StoredMember> members = new ArrayList<>();
        for (Member m : g.members.values()) {
            byte[] md = g.protocolName == null ? null : m.metadata(g.protocolName);
            members.add(new GroupRecords.StoredMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                m.rebalanceTimeoutMs, m.sessionTimeoutMs, md == null ? Member.EMPTY_BYTES : md, m.assignment));
        }
        GroupRecords.StoredGroup stored = new GroupRecords.StoredGroup(g.protocolType, g.generationId, g.protocolName,
            g.leaderId, g.stateSinceMs, members);
        return manager.append(g.groupId, List.of(new GroupMetadataManager.Entry(GroupRecords.groupKey(g.groupId),
            GroupRecords.groupValue(stored))), now);
    }

    /** Replays one partition of {@code __consumer_offsets} into groups, then serves them. */
    void loadPartition(int partition, long nowMs) {
        manager.setStatus(partition, GroupMetadataManager.Status.LOADING);
        Map<String, GroupMetadataManager.Loaded> loaded = manager.load(partition);
        for (Map.Entry<String, GroupMetadataManager.Loaded> e : loaded.entrySet()) {
            GroupRecords.StoredGroup s = e.getValue().group;
            boolean active = s != null && !s.members().isEmpty() && s.protocolName() != null;
            Group g = new Group(e.getKey(), active ? GroupState.STABLE : GroupState.EMPTY, nowMs);
            if (s != null) {
                g.protocolType = s.protocolType() == null || s.protocolType().isEmpty() ? null : s.protocolType();
                g.generationId = s.generationId();
                g.protocolName = s.protocolName();
                g.leaderId = s.leaderId();
                g.stateSinceMs = active ? nowMs : s.stateTimestampMs();
                if (active) {
                    for (GroupRecords.StoredMember sm : s.members()) {
                        Member m = new Member(sm.memberId(), sm.groupInstanceId(), sm.clientId(), sm.clientHost(),
                            sm.rebalanceTimeoutMs(), sm.sessionTimeoutMs(), g.protocolType,
                            List.of(new Member.Protocol(s.protocolName(), sm.subscription())));
                        m.assignment = sm.assignment();
                        m.heartbeatDeadlineMs = nowMs + sm.sessionTimeoutMs();
                        g.members.put(m.memberId, m);
                        if (m.groupInstanceId != null) {
                            g.staticMembers.put(m.groupInstanceId, m.memberId);
                        }
                    }
                    if (g.leaderId == null || !g.has(g.leaderId)) {
                        g.leaderId = g.members.keySet().iterator().next();
                    }
                }
            }
            g.offsets.putAll(e.getValue().offsets);
            groups.put(g.groupId, g);
        }
        manager.setStatus(partition, GroupMetadataManager.Status.LOADED);
    }

    /** For tests and tools: the state of a group, or null. */
    public GroupState groupState(String groupId) {
        Group g = groups.get(groupId);
        if (g == null) {
            return null;
        }
        synchronized (g) {
            return g.state();
        }
    }

    /** Unused-member check for tests: members of a group. */
    int memberCount(String groupId) {
        Group g = groups.get(groupId);
        if (g == null) {
            return 0;
        }
        synchronized (g) {
            return g.members.size();
        }
    }
}
