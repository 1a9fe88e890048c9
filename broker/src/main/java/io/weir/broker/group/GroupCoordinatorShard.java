package io.weir.broker.group;

import io.weir.broker.BrokerConfig;
import io.weir.broker.coordinator.runtime.CoordinatorException;
import io.weir.broker.coordinator.runtime.CoordinatorResult;
import io.weir.broker.coordinator.runtime.CoordinatorShard;
import io.weir.broker.coordinator.runtime.CoordinatorTimer;
import io.weir.broker.group.GroupRecords.GroupRecord;
import io.weir.broker.group.GroupRecords.MetadataRecord;
import io.weir.broker.group.GroupRecords.OffsetRecord;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The classic groups of one partition of {@code __consumer_offsets}: membership (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, static members), the group state machine ({@link GroupState}), committed
 * offsets, and their timeouts — a {@link CoordinatorShard} run by the coordinator runtime.
 *
 * <p><b>Durable state</b> (committed offsets; each group's stored metadata: generation, protocol,
 * leader, members and their assignments) changes only in {@link #replay}: an operation returns the
 * records, the runtime appends them and replays them once appended, and loading the partition replays
 * the same records. So a write whose append fails changes nothing durable (a static member's
 * replacement, a commit, a deletion is answered with the error and memory still agrees with the log).
 * <b>Membership in progress</b> (who has rejoined, responses waiting, session deadlines) is not stored,
 * as in Kafka: operations change it directly.
 *
 * <p>Join and sync responses that must wait (for the other members, for the leader's assignment, for
 * the assignment to be committed) are given to the callbacks later, from this shard's queue. Session,
 * rebalance, sync and pending-member deadlines are {@link CoordinatorTimer} timeouts on the injected
 * clock: a member whose session runs out is removed when the clock reaches its deadline.
 *
 * <p>Not thread-safe: the runtime runs one operation at a time.
 */
final class GroupCoordinatorShard implements CoordinatorShard<GroupRecord> {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinatorShard.class);
    private static final String EXPIRE_OFFSETS = "expire-offsets";

    /** The group settings of the broker config, read once. */
    record Settings(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs, int maxGroupSize,
                    int maxMetadataBytes, long offsetsRetentionMs, long retentionCheckIntervalMs) {
        static Settings from(BrokerConfig config) {
            return new Settings(config.getInt(BrokerConfig.GROUP_MIN_SESSION_TIMEOUT_MS),
                config.getInt(BrokerConfig.GROUP_MAX_SESSION_TIMEOUT_MS),
                config.getInt(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS), config.getInt(BrokerConfig.GROUP_MAX_SIZE),
                config.getInt(BrokerConfig.OFFSET_METADATA_MAX_BYTES),
                config.getInt(BrokerConfig.OFFSETS_RETENTION_MINUTES) * 60_000L,
                config.getLong(BrokerConfig.OFFSETS_RETENTION_CHECK_INTERVAL_MS));
        }
    }

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

    /**
     * Committed offsets of a group; a null value means "no commit". {@code unstable}: partitions with a
     * transactional commit still pending (answered UNSTABLE_OFFSET_COMMIT when the fetch requires stable offsets).
     */
    record FetchResult(Errors error, Map<TopicPartition, CommittedOffset> offsets, Set<TopicPartition> unstable) {
        FetchResult(Errors error, Map<TopicPartition, CommittedOffset> offsets) {
            this(error, offsets, Set.of());
        }
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

    private final TopicPartition tp;
    private final CoordinatorTimer<GroupRecord> timer;
    private final Time time;
    private final Settings settings;
    private final Predicate<TopicPartition> partitionExists;
    private final Map<String, Group> groups = new HashMap<>();
    /**
     * Transactional offset commits not yet decided, by producer id, then group: replayed from records the
     * producer appended in its transaction; its COMMIT marker makes them committed offsets, ABORT drops them.
     * Keyed by producer id alone, as Kafka does: a producer has at most one transaction open on a partition,
     * because the transaction coordinator lets its next transaction's TxnOffsetCommit through only once
     * the previous one's markers are written (CONCURRENT_TRANSACTIONS until then). That ordering is what
     * keeps a marker from settling the offsets of a later transaction of the same producer id (which
     * transactions V2 keeps from one transaction to the next).
     */
    private final Map<Long, Map<String, Map<TopicPartition, PendingOffset>>> pendingTxnOffsets = new HashMap<>();
    /** Records and append callbacks collected by the operation that runs now (one at a time). */
    private final List<GroupRecord> opRecords = new ArrayList<>();
    private final List<Consumer<CoordinatorException>> opCallbacks = new ArrayList<>();

    /** A transactional offset commit awaiting its marker, with the log offset of its record. */
    private record PendingOffset(CommittedOffset offset, long recordOffset) {
    }

    GroupCoordinatorShard(TopicPartition tp, CoordinatorTimer<GroupRecord> timer, Time time, Settings settings,
                          Predicate<TopicPartition> partitionExists) {
        this.tp = tp;
        this.timer = timer;
        this.time = time;
        this.settings = settings;
        this.partitionExists = partitionExists;
    }

    /**
     * Kafka's mapping of a failed append to what a group client is told: the log's errors become
     * coordinator errors the client knows how to retry.
     */
    static Errors appendError(CoordinatorException e) {
        if (!(e instanceof CoordinatorException.AppendFailed)) {
            return e.error();
        }
        return switch (e.error()) {
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                Errors.COORDINATOR_NOT_AVAILABLE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> Errors.INVALID_COMMIT_OFFSET_SIZE;
            // a transactional offset commit the partition's producer state refused (a fenced epoch)
            case INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE -> e.error();
            default -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    // ------------------------------------------------------------------------------ operation plumbing

    private void begin() {
        opRecords.clear();
        opCallbacks.clear();
    }

    /** Adds a record to the running operation; {@code onAppended} learns whether it was committed (null) or not. */
    private void append(GroupRecord record, Consumer<CoordinatorException> onAppended) {
        opRecords.add(record);
        if (onAppended != null) {
            opCallbacks.add(onAppended);
        }
    }

    /** The running operation's records and response; a failed append is told to the callbacks, the response stands. */
    private <T> CoordinatorResult<T, GroupRecord> result(T response) {
        return result(response, null);
    }

    private <T> CoordinatorResult<T, GroupRecord> result(T response, CoordinatorResult.Completion<T> completion) {
        List<GroupRecord> records = List.copyOf(opRecords);
        List<Consumer<CoordinatorException>> callbacks = List.copyOf(opCallbacks);
        opRecords.clear();
        opCallbacks.clear();
        if (records.isEmpty()) {
            return CoordinatorResult.response(response);
        }
        return CoordinatorResult.of(records, response, (resp, failure) -> {
            callbacks.forEach(c -> c.accept(failure));
            return completion == null ? resp : completion.complete(resp, failure);
        });
    }

    private static String sessionKey(String groupId, String memberId) {
        return "session/" + groupId + "/" + memberId;
    }

    private static String pendingKey(String groupId, String memberId) {
        return "pending/" + groupId + "/" + memberId;
    }

    private static String joinKey(String groupId) {
        return "join/" + groupId;
    }

    private static String syncKey(String groupId) {
        return "sync/" + groupId;
    }

    // ------------------------------------------------------------------------------ replay

    @Override
    public void replay(long offset, long producerId, short producerEpoch, GroupRecord record) {
        if (producerId != -1) {
            // a transactional offset commit: pending until its transaction's marker
            if (record instanceof OffsetRecord o && o.offset() != null) {
                pendingTxnOffsets.computeIfAbsent(producerId, k -> new HashMap<>())
                    .computeIfAbsent(o.groupId(), k -> new LinkedHashMap<>())
                    .put(o.partition(), new PendingOffset(o.offset(), offset));
            }
            return;
        }
        long now = time.milliseconds();
        if (record instanceof OffsetRecord o) {
            Group g = groups.get(o.groupId());
            if (o.offset() == null) {
                if (g != null) {
                    g.offsets.remove(o.partition());
                    g.offsetRecordOffsets.remove(o.partition());
                }
                // a deleted offset stays deleted: the pending commits of the partition go with it (Kafka too)
                dropPendingOffsets(o.groupId(), o.partition());
                return;
            }
            if (g == null) {
                g = new Group(o.groupId(), GroupState.EMPTY, now);
                groups.put(g.groupId, g);
            }
            g.offsets.put(o.partition(), o.offset());
            g.offsetRecordOffsets.put(o.partition(), offset);
        } else {
            replayMetadata((MetadataRecord) record, now);
        }
    }

    @Override
    public void replayEndTransactionMarker(long offset, long producerId, short producerEpoch, boolean commit) {
        Map<String, Map<TopicPartition, PendingOffset>> pending = pendingTxnOffsets.remove(producerId);
        if (pending == null || !commit) {
            return;
        }
        long now = time.milliseconds();
        pending.forEach((groupId, offsets) -> {
            Group g = groups.get(groupId);
            if (g == null) {
                g = new Group(groupId, GroupState.EMPTY, now);
                groups.put(groupId, g);
            }
            for (Map.Entry<TopicPartition, PendingOffset> e : offsets.entrySet()) {
                // the most recent record wins: a plain commit appended after the transaction's stays
                // (and so a reload of a compacted log, which may have only that one, agrees)
                Long current = g.offsetRecordOffsets.get(e.getKey());
                if (current == null || e.getValue().recordOffset() > current) {
                    g.offsets.put(e.getKey(), e.getValue().offset());
                    g.offsetRecordOffsets.put(e.getKey(), e.getValue().recordOffset());
                }
            }
        });
    }

    /** Forgets every transaction's pending commit of the group's offset for {@code partition}. */
    private void dropPendingOffsets(String groupId, TopicPartition partition) {
        pendingTxnOffsets.values().removeIf(byGroup -> {
            Map<TopicPartition, PendingOffset> offsets = byGroup.get(groupId);
            if (offsets != null && offsets.remove(partition) != null && offsets.isEmpty()) {
                byGroup.remove(groupId);
            }
            return byGroup.isEmpty();
        });
    }

    /** Whether a transaction holds an undecided offset commit of the group for the partition. */
    boolean hasPendingTransactionalOffset(String groupId, TopicPartition partition) {
        for (Map<String, Map<TopicPartition, PendingOffset>> byGroup : pendingTxnOffsets.values()) {
            Map<TopicPartition, PendingOffset> offsets = byGroup.get(groupId);
            if (offsets != null && (partition == null || offsets.containsKey(partition))) {
                return true;
            }
        }
        return false;
    }

    private void replayMetadata(MetadataRecord r, long now) {
        String id = r.groupId();
        Group g = groups.get(id);
        GroupRecords.StoredGroup s = r.group();
        if (s == null) {
            if (g == null) {
                return;
            }
            for (String memberId : new ArrayList<>(g.members.keySet())) {
                dropMember(g, memberId, Errors.UNKNOWN_MEMBER_ID);
            }
            g.pendingMembers.keySet().forEach(m -> timer.cancel(pendingKey(id, m)));
            timer.cancel(joinKey(id));
            timer.cancel(syncKey(id));
            g.transitionTo(GroupState.DEAD, now);
            groups.remove(id);
            if (!g.offsets.isEmpty()) {
                Group kept = new Group(id, GroupState.EMPTY, now);
                kept.offsets.putAll(g.offsets);
                kept.offsetRecordOffsets.putAll(g.offsetRecordOffsets);
                groups.put(id, kept);
            }
            return;
        }
        boolean active = !s.members().isEmpty() && s.protocolName() != null;
        if (g == null) {
            g = new Group(id, active ? GroupState.STABLE : GroupState.EMPTY, active ? now : s.stateTimestampMs());
            groups.put(id, g);
        }
        g.protocolType = s.protocolType() == null || s.protocolType().isEmpty() ? null : s.protocolType();
        g.generationId = s.generationId();
        g.protocolName = s.protocolName();
        g.leaderId = s.leaderId();
        if (!active) {
            if (!g.is(GroupState.PREPARING_REBALANCE)) { // (a rebalance in progress keeps its joining members)
                for (String memberId : new ArrayList<>(g.members.keySet())) {
                    dropMember(g, memberId, Errors.UNKNOWN_MEMBER_ID);
                }
                g.leaderId = null;
                g.restore(GroupState.EMPTY, s.stateTimestampMs());
            }
            return;
        }
        if (g.is(GroupState.EMPTY) && g.members.isEmpty()) {
            g.restore(GroupState.STABLE, now); // the log holds an empty generation, then a stable one
        }
        Set<String> stored = new HashSet<>();
        for (GroupRecords.StoredMember sm : s.members()) {
            Member m = g.members.get(sm.memberId());
            if (m == null && sm.groupInstanceId() != null) {
                String current = g.staticMembers.get(sm.groupInstanceId());
                if (current != null && g.has(current)) {
                    m = replaceStaticMember(g, g.members.get(current), sm.memberId(), sm.clientId(), sm.clientHost(),
                        sm.rebalanceTimeoutMs(), sm.sessionTimeoutMs(), now);
                }
            }
            if (m == null) {
                m = new Member(sm.memberId(), sm.groupInstanceId(), sm.clientId(), sm.clientHost(),
                    sm.rebalanceTimeoutMs(), sm.sessionTimeoutMs(), g.protocolType,
                    List.of(new Member.Protocol(s.protocolName(), sm.subscription())));
                g.members.put(m.memberId, m);
                if (m.groupInstanceId != null) {
                    g.staticMembers.put(m.groupInstanceId, m.memberId);
                }
                touchSession(g, m, now + m.sessionTimeoutMs);
            }
            m.assignment = sm.assignment();
            stored.add(sm.memberId());
        }
        for (String memberId : new ArrayList<>(g.members.keySet())) {
            if (!stored.contains(memberId)) {
                dropMember(g, memberId, Errors.UNKNOWN_MEMBER_ID);
            }
        }
        if (g.leaderId == null || !g.has(g.leaderId)) {
            g.leaderId = g.members.keySet().iterator().next();
        }
    }

    /** Removes a member, answering what it waits for with {@code error}. */
    private void dropMember(Group g, String memberId, Errors error) {
        Member m = g.members.get(memberId);
        if (m.awaitingJoin != null) {
            m.awaitingJoin.accept(JoinResult.error(memberId, error));
            m.awaitingJoin = null;
        }
        if (m.awaitingSync != null) {
            m.awaitingSync.accept(SyncResult.error(error));
            m.awaitingSync = null;
        }
        removeMember(g, memberId);
    }

    private void removeMember(Group g, String memberId) {
        g.remove(memberId);
        timer.cancel(sessionKey(g.groupId, memberId));
    }

    @Override
    public void onLoaded() {
        timer.schedule(EXPIRE_OFFSETS, settings.retentionCheckIntervalMs(), this::expireOffsetsTimeout);
        // groups with neither metadata nor offsets left are not kept (their records were all deleted)
        groups.values().removeIf(g -> g.is(GroupState.EMPTY) && g.members.isEmpty() && g.offsets.isEmpty()
            && g.protocolType == null && g.generationId == 0);
    }

    @Override
    public void onUnloaded() {
        for (Group g : groups.values()) {
            for (Member m : g.members.values()) {
                if (m.awaitingJoin != null) {
                    m.awaitingJoin.accept(JoinResult.error(m.memberId, Errors.NOT_COORDINATOR));
                    m.awaitingJoin = null;
                }
                if (m.awaitingSync != null) {
                    m.awaitingSync.accept(SyncResult.error(Errors.NOT_COORDINATOR));
                    m.awaitingSync = null;
                }
            }
        }
        groups.clear();
    }

    // ------------------------------------------------------------------------------ JoinGroup

    CoordinatorResult<Void, GroupRecord> joinGroup(JoinRequest req, Consumer<JoinResult> callback) {
        begin();
        long now = time.milliseconds();
        boolean unknownMember = req.memberId().isEmpty();
        Group group = unknownMember ? groups.computeIfAbsent(req.groupId(), id -> new Group(id, GroupState.EMPTY, now))
            : groups.get(req.groupId());
        if (group == null) {
            callback.accept(JoinResult.error(req.memberId(), Errors.UNKNOWN_MEMBER_ID));
        } else if (group.is(GroupState.DEAD)) {
            callback.accept(JoinResult.error(req.memberId(), Errors.COORDINATOR_NOT_AVAILABLE));
        } else if (unknownMember) {
            joinUnknownMember(group, req, callback, now);
        } else {
            joinKnownMember(group, req, callback, now);
        }
        return result(null);
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
                staticMemberRejoins(group, group.members.get(existing), newId, req, callback, now);
                return;
            }
        }
        if (group.members.size() + group.pendingMembers.size() >= settings.maxGroupSize()) {
            callback.accept(JoinResult.error("", Errors.GROUP_MAX_SIZE_REACHED));
            return;
        }
        if (req.groupInstanceId() == null && req.requireKnownMemberId()) {
            // KIP-394: the member must come back with this id, so a lost response cannot leave a ghost member
            long deadline = now + req.sessionTimeoutMs();
            group.pendingMembers.put(newId, deadline);
            String groupId = group.groupId;
            timer.scheduleAt(pendingKey(groupId, newId), deadline, () -> pendingMemberTimeout(groupId, newId));
            callback.accept(JoinResult.error(newId, Errors.MEMBER_ID_REQUIRED));
            return;
        }
        addMemberAndRebalance(group, newId, req, callback, now);
    }

    private void joinKnownMember(Group group, JoinRequest req, Consumer<JoinResult> callback, long now) {
        String id = req.memberId();
        if (group.pendingMembers.remove(id) != null) {
            timer.cancel(pendingKey(group.groupId, id));
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
                    touchSession(group, member, now + member.sessionTimeoutMs);
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
        boolean wasPreparing = group.is(GroupState.PREPARING_REBALANCE);
        group.add(m);
        touchSession(group, m, now + req.sessionTimeoutMs());
        if (wasPreparing && group.initialDelayActive) {
            group.joinDeadlineMs = Math.min(now + settings.initialRebalanceDelayMs(), group.initialDelayLimitMs);
            armJoinTimeout(group);
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
        touchSession(group, m, now + req.sessionTimeoutMs());
        maybePrepareRebalance(group, now, "member " + m.memberId + " rejoined");
        checkJoinComplete(group, now);
    }

    /**
     * A static member came back from a new process: its old member id is fenced and replaced. In a
     * stable group with unchanged protocols nothing the assignment depends on changed, so there is no
     * rebalance — but the new member id must be stored first: the replacement is a record, applied by
     * {@link #replay} once appended, and the member is answered only when it is committed; if the
     * append fails, the old member stays and the new one is told the error (Kafka does the same).
     */
    private void staticMemberRejoins(Group group, Member old, String newId, JoinRequest req,
                                     Consumer<JoinResult> callback, long now) {
        if (group.is(GroupState.STABLE) && old.sameProtocols(req.protocols())) {
            boolean wasLeader = group.isLeader(old.memberId);
            Member replacement = old.withNewId(newId);
            replacement.clientId = req.clientId();
            replacement.clientHost = req.clientHost();
            replacement.rebalanceTimeoutMs = req.rebalanceTimeoutMs();
            replacement.sessionTimeoutMs = req.sessionTimeoutMs();
            List<Member> members = new ArrayList<>(group.members.size());
            for (Member m : group.members.values()) {
                if (m != old) {
                    members.add(m);
                }
            }
            members.add(replacement);
            String groupId = group.groupId;
            append(new MetadataRecord(groupId, stored(group, members, wasLeader ? newId : group.leaderId, null)),
                failure -> {
                    Group g = groups.get(groupId);
                    Member m = g == null ? null : g.members.get(newId);
                    if (failure != null || m == null) {
                        Errors e = failure != null ? appendError(failure) : Errors.UNKNOWN_MEMBER_ID;
                        log.warn("cannot store the new member id {} of static member {} in group {}: {}", newId,
                            req.groupInstanceId(), groupId, e);
                        callback.accept(JoinResult.error("", e));
                    } else {
                        callback.accept(currentGeneration(g, m, wasLeader));
                    }
                });
            return;
        }
        Member m = replaceStaticMember(group, old, newId, req.clientId(), req.clientHost(), req.rebalanceTimeoutMs(),
            req.sessionTimeoutMs(), now);
        updateMemberAndRebalance(group, m, req, callback, now);
    }

    /** Puts a static member under its new id; the old id is fenced. */
    private Member replaceStaticMember(Group group, Member old, String newId, String clientId, String clientHost,
                                       int rebalanceTimeoutMs, int sessionTimeoutMs, long now) {
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
        timer.cancel(sessionKey(group.groupId, old.memberId));
        Member m = old.withNewId(newId);
        m.clientId = clientId;
        m.clientHost = clientHost;
        m.rebalanceTimeoutMs = rebalanceTimeoutMs;
        m.sessionTimeoutMs = sessionTimeoutMs;
        group.members.put(newId, m);
        group.staticMembers.put(m.groupInstanceId, newId);
        if (wasLeader) {
            group.leaderId = newId;
        }
        if (wasPendingSync) {
            group.pendingSync.add(newId);
        }
        touchSession(group, m, now + sessionTimeoutMs);
        log.info("static member {} of group {} rejoined as {} (was {})", m.groupInstanceId, group.groupId, newId,
            old.memberId);
        return m;
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
        timer.cancel(syncKey(group.groupId));
        int rebalanceMs = group.maxRebalanceTimeoutMs();
        if (fromEmpty && settings.initialRebalanceDelayMs() > 0) {
            group.initialDelayActive = true;
            group.initialDelayLimitMs = now + rebalanceMs;
            group.joinDeadlineMs = now + Math.min(settings.initialRebalanceDelayMs(), rebalanceMs);
        } else {
            group.initialDelayActive = false;
            group.joinDeadlineMs = now + rebalanceMs;
        }
        armJoinTimeout(group);
        log.info("group {} is rebalancing (generation {}): {}", group.groupId, group.generationId, reason);
    }

    private void resetAndPropagateAssignmentError(Group group, Errors error) {
        for (Member m : group.members.values()) {
            m.assignment = Member.EMPTY_BYTES;
            if (m.awaitingSync != null) {
                m.awaitingSync.accept(SyncResult.error(error));
                m.awaitingSync = null;
                touchSession(group, m, m.heartbeatDeadlineMs); // its session counts again
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
        timer.cancel(joinKey(group.groupId));
        for (Member m : new ArrayList<>(group.members.values())) {
            if (m.awaitingJoin == null) {
                log.info("member {} of group {} did not rejoin in time and is removed", m.memberId, group.groupId);
                removeMember(group, m.memberId);
            }
        }
        group.generationId++;
        if (group.members.isEmpty()) {
            group.protocolName = null;
            group.leaderId = null;
            group.transitionTo(GroupState.EMPTY, now);
            int generation = group.generationId;
            append(new MetadataRecord(group.groupId, stored(group, List.of(), null, null)), failure -> {
                if (failure != null) {
                    log.warn("cannot store empty group {} generation {}: {}", group.groupId, generation,
                        appendError(failure));
                }
            });
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
        String groupId = group.groupId;
        timer.scheduleAt(syncKey(groupId), group.syncDeadlineMs, () -> syncTimeout(groupId));
        List<JoinedMember> all = membersMetadata(group);
        log.info("group {} generation {} with {} members, protocol {}, leader {}", group.groupId, group.generationId,
            group.members.size(), group.protocolName, group.leaderId);
        for (Member m : group.members.values()) {
            Consumer<JoinResult> cb = m.awaitingJoin;
            m.awaitingJoin = null;
            m.isNew = false;
            touchSession(group, m, now + m.sessionTimeoutMs);
            cb.accept(new JoinResult(Errors.NONE, m.memberId, group.generationId, group.protocolType,
                group.protocolName, group.leaderId, false, group.isLeader(m.memberId) ? all : List.of()));
        }
    }

    // ------------------------------------------------------------------------------ SyncGroup

    CoordinatorResult<Void, GroupRecord> syncGroup(String groupId, int generationId, String memberId,
                                                   String groupInstanceId, String protocolType, String protocolName,
                                                   Map<String, byte[]> assignments, Consumer<SyncResult> callback) {
        begin();
        Group group = groups.get(groupId);
        if (group == null) {
            callback.accept(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
            return result(null);
        }
        long now = time.milliseconds();
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
                    m.heartbeatDeadlineMs = now + m.sessionTimeoutMs; // armed again when the wait ends
                    group.pendingSync.remove(memberId);
                    if (group.isLeader(memberId)) {
                        completeSync(group, assignments);
                    }
                }
                case STABLE -> {
                    touchSession(group, m, now + m.sessionTimeoutMs);
                    group.pendingSync.remove(memberId);
                    callback.accept(new SyncResult(Errors.NONE, group.protocolType, group.protocolName, m.assignment));
                }
                default -> callback.accept(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
            }
        }
        return result(null);
    }

    /**
     * The leader's assignment arrived: store the group with it; once committed, the group is stable and
     * every member waiting is answered with its assignment. If storing fails, they get the error and the
     * group rebalances again.
     */
    private void completeSync(Group group, Map<String, byte[]> assignments) {
        Map<String, byte[]> assigned = new HashMap<>();
        for (Member m : group.members.values()) {
            byte[] a = assignments.get(m.memberId);
            assigned.put(m.memberId, a == null ? Member.EMPTY_BYTES : a);
        }
        int generation = group.generationId;
        append(new MetadataRecord(group.groupId, stored(group, new ArrayList<>(group.members.values()), group.leaderId,
            assigned)), failure -> {
                if (groups.get(group.groupId) != group || group.generationId != generation
                    || !group.is(GroupState.COMPLETING_REBALANCE)) {
                    return; // the group moved on meanwhile; whoever waited was answered then
                }
                long now = time.milliseconds();
                if (failure != null) {
                    Errors e = appendError(failure);
                    log.warn("cannot store group {} generation {}: {}", group.groupId, generation, e);
                    resetAndPropagateAssignmentError(group, e);
                    prepareRebalance(group, now, "storing the assignment failed");
                    return;
                }
                group.transitionTo(GroupState.STABLE, now);
                for (Member m : group.members.values()) {
                    if (m.awaitingSync != null) {
                        m.awaitingSync.accept(new SyncResult(Errors.NONE, group.protocolType, group.protocolName,
                            m.assignment));
                        m.awaitingSync = null;
                        touchSession(group, m, m.heartbeatDeadlineMs); // its session counts again
                    }
                }
            });
    }

    // ------------------------------------------------------------------------------ Heartbeat, LeaveGroup

    CoordinatorResult<Errors, GroupRecord> heartbeat(String groupId, String memberId, String groupInstanceId,
                                                     int generationId) {
        begin();
        Group group = groups.get(groupId);
        if (group == null) {
            return result(Errors.UNKNOWN_MEMBER_ID);
        }
        long now = time.milliseconds();
        Member m = group.members.get(memberId);
        Errors e;
        if (group.is(GroupState.DEAD)) {
            e = Errors.COORDINATOR_NOT_AVAILABLE;
        } else if (group.isStaticMemberFenced(memberId, groupInstanceId)) {
            e = Errors.FENCED_INSTANCE_ID;
        } else if (m == null) {
            e = Errors.UNKNOWN_MEMBER_ID;
        } else if (generationId != group.generationId) {
            e = Errors.ILLEGAL_GENERATION;
        } else {
            e = switch (group.state()) {
                case PREPARING_REBALANCE -> {
                    touchSession(group, m, now + m.sessionTimeoutMs);
                    yield Errors.REBALANCE_IN_PROGRESS;
                }
                case COMPLETING_REBALANCE, STABLE -> {
                    touchSession(group, m, now + m.sessionTimeoutMs);
                    yield Errors.NONE;
                }
                default -> Errors.UNKNOWN_MEMBER_ID;
            };
        }
        return result(e);
    }

    CoordinatorResult<LeaveResult, GroupRecord> leaveGroup(String groupId, List<MemberIdentity> leaving) {
        begin();
        Group group = groups.get(groupId);
        if (group == null) {
            return result(new LeaveResult(Errors.NONE, leaving.stream().map(x -> Errors.UNKNOWN_MEMBER_ID).toList()));
        }
        long now = time.milliseconds();
        if (group.is(GroupState.DEAD)) {
            return result(new LeaveResult(Errors.COORDINATOR_NOT_AVAILABLE,
                leaving.stream().map(x -> Errors.COORDINATOR_NOT_AVAILABLE).toList()));
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
                timer.cancel(pendingKey(groupId, id));
                checkJoinComplete(group, now);
                out.add(Errors.NONE);
            } else if (!group.has(id)) {
                out.add(Errors.UNKNOWN_MEMBER_ID);
            } else {
                removeMemberAndUpdate(group, id, now, "member " + id + " left");
                out.add(Errors.NONE);
            }
        }
        return result(new LeaveResult(Errors.NONE, out));
    }

    private void removeMemberAndUpdate(Group group, String memberId, long now, String reason) {
        dropMember(group, memberId, Errors.UNKNOWN_MEMBER_ID);
        switch (group.state()) {
            case STABLE, COMPLETING_REBALANCE -> {
                prepareRebalance(group, now, reason);
                checkJoinComplete(group, now); // the last member left: the group is empty at once
            }
            case PREPARING_REBALANCE -> checkJoinComplete(group, now);
            default -> { }
        }
    }

    // ------------------------------------------------------------------------------ timeouts

    /** Pushes a member's session deadline to {@code deadlineMs}; the member expires when the clock reaches it. */
    private void touchSession(Group group, Member m, long deadlineMs) {
        m.heartbeatDeadlineMs = deadlineMs;
        String groupId = group.groupId;
        String memberId = m.memberId;
        timer.scheduleAt(sessionKey(groupId, memberId), deadlineMs, () -> sessionTimeout(groupId, memberId));
    }

    private CoordinatorResult<Void, GroupRecord> sessionTimeout(String groupId, String memberId) {
        begin();
        Group g = groups.get(groupId);
        Member m = g == null ? null : g.members.get(memberId);
        if (m == null || m.awaitingJoin != null || m.awaitingSync != null) {
            return result(null); // a waiting member's session is re-armed when its wait ends
        }
        long now = time.milliseconds();
        if (m.heartbeatDeadlineMs > now) {
            touchSession(g, m, m.heartbeatDeadlineMs); // the timer fired early (clock granularity)
            return result(null);
        }
        log.info("member {} of group {} missed its session timeout of {} ms", memberId, groupId, m.sessionTimeoutMs);
        removeMemberAndUpdate(g, memberId, now, "member " + memberId + " expired");
        return result(null);
    }

    private CoordinatorResult<Void, GroupRecord> pendingMemberTimeout(String groupId, String memberId) {
        begin();
        Group g = groups.get(groupId);
        Long deadline = g == null ? null : g.pendingMembers.get(memberId);
        if (deadline != null) {
            long now = time.milliseconds();
            if (deadline > now) {
                timer.scheduleAt(pendingKey(groupId, memberId), deadline, () -> pendingMemberTimeout(groupId, memberId));
            } else {
                g.pendingMembers.remove(memberId);
                checkJoinComplete(g, now);
            }
        }
        return result(null);
    }

    private void armJoinTimeout(Group group) {
        String groupId = group.groupId;
        timer.scheduleAt(joinKey(groupId), group.joinDeadlineMs, () -> joinTimeout(groupId));
    }

    private CoordinatorResult<Void, GroupRecord> joinTimeout(String groupId) {
        begin();
        Group g = groups.get(groupId);
        if (g == null || !g.is(GroupState.PREPARING_REBALANCE)) {
            return result(null);
        }
        long now = time.milliseconds();
        if (now < g.joinDeadlineMs) {
            armJoinTimeout(g);
        } else if (g.initialDelayActive) {
            g.initialDelayActive = false;
            g.joinDeadlineMs = g.initialDelayLimitMs;
            armJoinTimeout(g);
            checkJoinComplete(g, now);
        } else {
            completeJoin(g, now);
        }
        return result(null);
    }

    /** Members of the new generation that did not send SyncGroup in time are removed. */
    private CoordinatorResult<Void, GroupRecord> syncTimeout(String groupId) {
        begin();
        Group g = groups.get(groupId);
        if (g == null || g.pendingSync.isEmpty()
            || !(g.is(GroupState.COMPLETING_REBALANCE) || g.is(GroupState.STABLE))) {
            return result(null);
        }
        long now = time.milliseconds();
        if (now < g.syncDeadlineMs) {
            timer.scheduleAt(syncKey(groupId), g.syncDeadlineMs, () -> syncTimeout(groupId));
            return result(null);
        }
        for (String id : new ArrayList<>(g.pendingSync)) {
            if (g.has(id)) {
                log.info("member {} of group {} did not sync in time and is removed", id, g.groupId);
                removeMemberAndUpdate(g, id, now, "member " + id + " did not sync");
            }
        }
        g.pendingSync.clear();
        return result(null);
    }

    private CoordinatorResult<Void, GroupRecord> expireOffsetsTimeout() {
        begin();
        collectExpiredOffsets();
        timer.schedule(EXPIRE_OFFSETS, settings.retentionCheckIntervalMs(), this::expireOffsetsTimeout);
        return result(null, (response, failure) -> {
            if (failure != null) {
                log.warn("cannot store expired offsets of {}: {}", tp, appendError(failure));
            }
            return response;
        });
    }

    // ------------------------------------------------------------------------------ offsets

    CoordinatorResult<Map<TopicPartition, Errors>, GroupRecord> commitOffsets(
        String groupId, String memberId, String groupInstanceId, int generationId,
        Map<TopicPartition, CommittedOffset> offsets) {
        begin();
        Group group = groups.get(groupId);
        long now = time.milliseconds();
        if (group == null) {
            if (generationId >= 0) {
                return result(allWith(offsets.keySet(), Errors.ILLEGAL_GENERATION));
            }
            // a group without membership (assign() and commit): the coordinator only stores its offsets
            return doCommit(groupId, offsets, now);
        }
        Member m = memberId == null ? null : group.members.get(memberId);
        if (group.is(GroupState.DEAD)) {
            return result(allWith(offsets.keySet(), Errors.COORDINATOR_NOT_AVAILABLE));
        } else if (generationId < 0 && group.is(GroupState.EMPTY)) {
            return doCommit(groupId, offsets, now);
        } else if (group.isStaticMemberFenced(memberId, groupInstanceId)) {
            return result(allWith(offsets.keySet(), Errors.FENCED_INSTANCE_ID));
        } else if (m == null) {
            return result(allWith(offsets.keySet(), Errors.UNKNOWN_MEMBER_ID));
        } else if (generationId != group.generationId) {
            return result(allWith(offsets.keySet(), Errors.ILLEGAL_GENERATION));
        } else if (group.is(GroupState.COMPLETING_REBALANCE)) {
            return result(allWith(offsets.keySet(), Errors.REBALANCE_IN_PROGRESS));
        }
        touchSession(group, m, now + m.sessionTimeoutMs);
        return doCommit(groupId, offsets, now);
    }

    /**
     * A TxnOffsetCommit: validated like an offset commit (KIP-447: generation, member and instance id),
     * except that a request without member information (before v3) is not checked against the group.
     * Run as a transactional write, so the records are replayed as pending offsets.
     */
    CoordinatorResult<Map<TopicPartition, Errors>, GroupRecord> commitTransactionalOffsets(
        String groupId, String memberId, String groupInstanceId, int generationId,
        Map<TopicPartition, CommittedOffset> offsets) {
        if (generationId < 0 && (memberId == null || memberId.isEmpty()) && groupInstanceId == null) {
            begin();
            Group group = groups.get(groupId);
            if (group != null && group.is(GroupState.DEAD)) {
                return result(allWith(offsets.keySet(), Errors.COORDINATOR_NOT_AVAILABLE));
            }
            return doCommit(groupId, offsets, time.milliseconds());
        }
        return commitOffsets(groupId, memberId, groupInstanceId, generationId, offsets);
    }

    private CoordinatorResult<Map<TopicPartition, Errors>, GroupRecord> doCommit(
        String groupId, Map<TopicPartition, CommittedOffset> offsets, long now) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        List<TopicPartition> accepted = new ArrayList<>();
        for (Map.Entry<TopicPartition, CommittedOffset> o : offsets.entrySet()) {
            TopicPartition p = o.getKey();
            if (!partitionExists.test(p)) {
                out.put(p, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            } else if (o.getValue().metadata().length() > settings.maxMetadataBytes()) {
                out.put(p, Errors.OFFSET_METADATA_TOO_LARGE);
            } else {
                out.put(p, Errors.NONE);
                accepted.add(p);
                append(new OffsetRecord(groupId, p, new CommittedOffset(o.getValue().offset(),
                    o.getValue().leaderEpoch(), o.getValue().metadata(), now)), null);
            }
        }
        return result(out, (response, failure) -> {
            if (failure == null) {
                return response;
            }
            Map<TopicPartition, Errors> failed = new LinkedHashMap<>(response);
            Errors e = appendError(failure);
            accepted.forEach(p -> failed.put(p, e));
            return failed;
        });
    }

    private static Map<TopicPartition, Errors> allWith(Set<TopicPartition> tps, Errors e) {
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        for (TopicPartition p : tps) {
            out.put(p, e);
        }
        return out;
    }

    /** The group's committed offsets for {@code partitions}, or all of them when null. */
    FetchResult fetchOffsets(String groupId, List<TopicPartition> partitions) {
        return fetchOffsets(groupId, partitions, false);
    }

    /** With {@code requireStable}, partitions with a pending transactional commit are marked unstable. */
    FetchResult fetchOffsets(String groupId, List<TopicPartition> partitions, boolean requireStable) {
        FetchResult r = committedOffsets(groupId, partitions);
        if (!requireStable) {
            return r;
        }
        Set<TopicPartition> unstable = new HashSet<>();
        for (Map<String, Map<TopicPartition, PendingOffset>> byGroup : pendingTxnOffsets.values()) {
            Map<TopicPartition, PendingOffset> pending = byGroup.get(groupId);
            if (pending != null) {
                for (TopicPartition p : pending.keySet()) {
                    if (partitions == null || partitions.contains(p)) {
                        unstable.add(p);
                    }
                }
            }
        }
        if (unstable.isEmpty()) {
            return r;
        }
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>(r.offsets());
        unstable.forEach(p -> offsets.putIfAbsent(p, null));
        return new FetchResult(r.error(), offsets, unstable);
    }

    private FetchResult committedOffsets(String groupId, List<TopicPartition> partitions) {
        Map<TopicPartition, CommittedOffset> out = new LinkedHashMap<>();
        Group group = groups.get(groupId);
        if (group == null) {
            if (partitions != null) {
                partitions.forEach(p -> out.put(p, null));
            }
            return new FetchResult(Errors.NONE, out);
        }
        if (partitions == null) {
            out.putAll(group.offsets);
        } else {
            partitions.forEach(p -> out.put(p, group.offsets.get(p)));
        }
        return new FetchResult(Errors.NONE, out);
    }

    // ------------------------------------------------------------------------------ admin

    List<Overview> listGroups(Set<String> statesLowerCase) {
        List<Overview> out = new ArrayList<>();
        for (Group g : groups.values()) {
            if (g.is(GroupState.DEAD)) {
                continue;
            }
            if (statesLowerCase.isEmpty() || statesLowerCase.contains(g.state().wireName().toLowerCase(Locale.ROOT))) {
                out.add(new Overview(g.groupId, g.protocolType == null ? "" : g.protocolType, g.state().wireName()));
            }
        }
        return out;
    }

    /** The group's state and members; null when the group does not exist. */
    Described describeGroup(String groupId) {
        Group g = groups.get(groupId);
        if (g == null || g.is(GroupState.DEAD)) {
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

    CoordinatorResult<Errors, GroupRecord> deleteGroup(String groupId) {
        begin();
        Group g = groups.get(groupId);
        if (g == null || g.is(GroupState.DEAD)) {
            return result(Errors.GROUP_ID_NOT_FOUND);
        }
        if (!g.is(GroupState.EMPTY)) {
            return result(Errors.NON_EMPTY_GROUP);
        }
        appendGroupTombstones(g);
        return result(Errors.NONE, (response, failure) -> {
            if (failure != null) {
                return appendError(failure);
            }
            log.info("deleted group {}", groupId);
            return response;
        });
    }

    /**
     * Tombstones for the group and all its offsets, the ones transactions have pending included (as Kafka
     * does on DeleteGroups); replaying them forgets the group, and a later COMMIT marker brings nothing back.
     */
    private void appendGroupTombstones(Group g) {
        Set<TopicPartition> partitions = new LinkedHashSet<>(g.offsets.keySet());
        for (Map<String, Map<TopicPartition, PendingOffset>> byGroup : pendingTxnOffsets.values()) {
            Map<TopicPartition, PendingOffset> pending = byGroup.get(g.groupId);
            if (pending != null) {
                partitions.addAll(pending.keySet());
            }
        }
        for (TopicPartition p : partitions) {
            append(new OffsetRecord(g.groupId, p, null), null);
        }
        append(new MetadataRecord(g.groupId, null), null);
    }

    CoordinatorResult<OffsetDeleteResult, GroupRecord> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        begin();
        Group g = groups.get(groupId);
        if (g == null || g.is(GroupState.DEAD)) {
            return result(new OffsetDeleteResult(Errors.GROUP_ID_NOT_FOUND, Map.of()));
        }
        if (!g.is(GroupState.EMPTY) && g.protocolType != null && !"consumer".equals(g.protocolType)) {
            return result(new OffsetDeleteResult(Errors.NON_EMPTY_GROUP, Map.of()));
        }
        Set<String> subscribed = g.is(GroupState.EMPTY) ? Set.of() : g.subscribedTopics();
        Map<TopicPartition, Errors> out = new LinkedHashMap<>();
        for (TopicPartition p : partitions) {
            if (subscribed == null || subscribed.contains(p.topic())) {
                out.put(p, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
            } else {
                out.put(p, Errors.NONE);
                if (g.offsets.containsKey(p)) {
                    append(new OffsetRecord(groupId, p, null), null);
                }
            }
        }
        return result(new OffsetDeleteResult(Errors.NONE, out),
            (response, failure) -> failure == null ? response : new OffsetDeleteResult(appendError(failure), Map.of()));
    }

    /**
     * Deletes (with tombstones) the offsets of groups that have had no members for
     * {@code offsets.retention.minutes}, and forgets groups left with nothing. Answers how many
     * offsets it removed (0 if the tombstones could not be stored).
     */
    CoordinatorResult<Integer, GroupRecord> expireOffsets() {
        begin();
        int removed = collectExpiredOffsets();
        return result(removed, (response, failure) -> {
            if (failure != null) {
                log.warn("cannot store expired offsets of {}: {}", tp, appendError(failure));
                return 0;
            }
            return response;
        });
    }

    private int collectExpiredOffsets() {
        long nowMs = time.milliseconds();
        int removed = 0;
        for (Group g : groups.values()) {
            if (!g.is(GroupState.EMPTY) || !g.pendingMembers.isEmpty()) {
                continue;
            }
            List<TopicPartition> expired = new ArrayList<>();
            for (Map.Entry<TopicPartition, CommittedOffset> o : g.offsets.entrySet()) {
                // a group that had members counts from when it became empty; a simple one from each commit
                long since = g.protocolType != null ? Math.max(g.stateSinceMs, o.getValue().commitTimestampMs())
                    : o.getValue().commitTimestampMs();
                // an offset a transaction is about to commit is not expired: its tombstone would drop that commit
                if (nowMs - since >= settings.offsetsRetentionMs()
                    && !hasPendingTransactionalOffset(g.groupId, o.getKey())) {
                    expired.add(o.getKey());
                }
            }
            if (expired.size() == g.offsets.size() && !hasPendingTransactionalOffset(g.groupId, null)) {
                appendGroupTombstones(g);
                if (!expired.isEmpty()) {
                    log.info("group {} expired with its {} offsets", g.groupId, expired.size());
                }
            } else {
                for (TopicPartition p : expired) {
                    append(new OffsetRecord(g.groupId, p, null), null);
                }
            }
            removed += expired.size();
        }
        return removed;
    }

    // ------------------------------------------------------------------------------ durability

    /**
     * The group value to store: its members ({@code members}, in this order) with their subscription to
     * the group's protocol and their assignment ({@code assignments}, or the current one when null).
     */
    private static GroupRecords.StoredGroup stored(Group g, List<Member> members, String leaderId,
                                                   Map<String, byte[]> assignments) {
        List<GroupRecords.StoredMember> out = new ArrayList<>(members.size());
        for (Member m : members) {
            byte[] md = g.protocolName == null ? null : m.metadata(g.protocolName);
            byte[] assignment = assignments == null ? m.assignment : assignments.get(m.memberId);
            out.add(new GroupRecords.StoredMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                m.rebalanceTimeoutMs, m.sessionTimeoutMs, md == null ? Member.EMPTY_BYTES : md,
                assignment == null ? Member.EMPTY_BYTES : assignment));
        }
        return new GroupRecords.StoredGroup(g.protocolType, g.generationId, g.protocolName, leaderId, g.stateSinceMs,
            out);
    }

    // ------------------------------------------------------------------------------ inspection

    /** The state of a group, or null. */
    GroupState groupState(String groupId) {
        Group g = groups.get(groupId);
        return g == null ? null : g.state();
    }

    int memberCount(String groupId) {
        Group g = groups.get(groupId);
        return g == null ? 0 : g.members.size();
    }

    /**
     * The durable part of the state in a canonical text form (groups, generation, protocol, leader,
     * members with their subscription and assignment, offsets), so tests can compare the state the
     * write path built with the state a load rebuilt.
     */
    String durableState() {
        HexFormat hex = HexFormat.of();
        StringBuilder b = new StringBuilder();
        for (Group g : new TreeMap<>(groups).values()) {
            b.append("group ").append(g.groupId).append(' ').append(g.state()).append(" gen=").append(g.generationId)
                .append(" type=").append(g.protocolType).append(" protocol=").append(g.protocolName)
                .append(" leader=").append(g.leaderId).append('\n');
            for (Member m : new TreeMap<>(g.members).values()) {
                byte[] md = g.protocolName == null ? null : m.metadata(g.protocolName);
                b.append("  member ").append(m.memberId).append(" instance=").append(m.groupInstanceId)
                    .append(" client=").append(m.clientId).append('/').append(m.clientHost)
                    .append(" session=").append(m.sessionTimeoutMs).append(" rebalance=").append(m.rebalanceTimeoutMs)
                    .append(" subscription=").append(md == null ? "-" : hex.formatHex(md))
                    .append(" assignment=").append(hex.formatHex(m.assignment)).append('\n');
            }
            Map<String, CommittedOffset> offsets = new TreeMap<>();
            g.offsets.forEach((p, o) -> offsets.put(p.toString(), o));
            offsets.forEach((p, o) -> b.append("  offset ").append(p).append(' ').append(o).append('\n'));
        }
        return b.toString();
    }
}
