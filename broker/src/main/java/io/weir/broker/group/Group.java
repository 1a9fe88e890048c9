package io.weir.broker.group;

import io.weir.common.TopicPartition;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One classic group: its state, generation, members and committed offsets.
 *
 * <p>Not thread-safe: owned by the {@link GroupCoordinatorShard} of its {@code __consumer_offsets}
 * partition, whose operations run one at a time on the shard's queue.
 */
final class Group {
    final String groupId;
    private GroupState state;
    long stateSinceMs;
    String protocolType;
    String protocolName;
    int generationId;
    String leaderId;
    final Map<String, Member> members = new LinkedHashMap<>();
    /** group.instance.id → current member id of that static member. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, with the time by which they must join. */
    final Map<String, Long> pendingMembers = new HashMap<>();
    /** Members of the current generation that have not sent SyncGroup yet. */
    final Set<String> pendingSync = new HashSet<>();
    final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
    /**
     * The log offset in {@code __consumer_offsets} of the record each entry of {@link #offsets} came from:
     * a transaction's offset, committed by its marker, replaces only an offset whose record is older.
     */
    final Map<TopicPartition, Long> offsetRecordOffsets = new HashMap<>();
    long joinDeadlineMs = Long.MAX_VALUE;
    /** While the initial rebalance delay runs, the join phase is not completed early. */
    boolean initialDelayActive;
    long initialDelayLimitMs;
    long syncDeadlineMs = Long.MAX_VALUE;

    Group(String groupId, GroupState state, long nowMs) {
        this.groupId = groupId;
        this.state = state;
        this.stateSinceMs = nowMs;
    }

    GroupState state() {
        return state;
    }

    boolean is(GroupState s) {
        return state == s;
    }

    void transitionTo(GroupState next, long nowMs) {
        if (!next.canFollow(state)) {
            throw new IllegalStateException("group " + groupId + " cannot go from " + state + " to " + next);
        }
        state = next;
        stateSinceMs = nowMs;
    }

    /**
     * Sets the state as the log says it is, without a transition: only replay does this, when a record
     * rebuilds a group (a stable generation loaded from the log, or a group the log says is empty).
     */
    void restore(GroupState s, long sinceMs) {
        state = s;
        stateSinceMs = sinceMs;
    }

    boolean has(String memberId) {
        return members.containsKey(memberId);
    }

    boolean isLeader(String memberId) {
        return memberId.equals(leaderId);
    }

    boolean isStaticMemberFenced(String memberId, String groupInstanceId) {
        if (groupInstanceId == null) {
            return false;
        }
        String current = staticMembers.get(groupInstanceId);
        return current != null && !current.equals(memberId);
    }

    void add(Member m) {
        if (members.isEmpty()) {
            protocolType = m.protocolType;
        }
        members.put(m.memberId, m);
        if (m.groupInstanceId != null) {
            staticMembers.put(m.groupInstanceId, m.memberId);
        }
        if (leaderId == null) {
            leaderId = m.memberId;
        }
    }

    void remove(String memberId) {
        Member m = members.remove(memberId);
        if (m != null && m.groupInstanceId != null && memberId.equals(staticMembers.get(m.groupInstanceId))) {
            staticMembers.remove(m.groupInstanceId);
        }
        pendingSync.remove(memberId);
        if (memberId.equals(leaderId)) {
            leaderId = null;
            for (Member other : members.values()) {
                if (other.awaitingJoin != null) {
                    leaderId = other.memberId;
                    break;
                }
            }
            if (leaderId == null && !members.isEmpty()) {
                leaderId = members.keySet().iterator().next();
            }
        }
    }

    boolean allMembersJoined() {
        for (Member m : members.values()) {
            if (m.awaitingJoin == null) {
                return false;
            }
        }
        return pendingMembers.isEmpty();
    }

    int maxRebalanceTimeoutMs() {
        int max = 0;
        for (Member m : members.values()) {
            max = Math.max(max, m.rebalanceTimeoutMs);
        }
        return max;
    }

    /** Protocols every member supports. */
    Set<String> candidateProtocols() {
        Set<String> out = null;
        for (Member m : members.values()) {
            Set<String> names = new LinkedHashSet<>();
            m.protocols.forEach(p -> names.add(p.name()));
            if (out == null) {
                out = names;
            } else {
                out.retainAll(names);
            }
        }
        return out == null ? new LinkedHashSet<>() : out;
    }

    /** Whether a member offering these protocols may join (Kafka's rule: a common protocol must remain). */
    boolean supportsProtocols(String type, List<Member.Protocol> protocols) {
        if (members.isEmpty()) {
            return type != null && !type.isEmpty() && !protocols.isEmpty();
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        Set<String> candidates = candidateProtocols();
        for (Member.Protocol p : protocols) {
            if (candidates.contains(p.name())) {
                return true;
            }
        }
        return false;
    }

    /** The protocol most members prefer among those all support; ties go to the earliest member's choice. */
    String selectProtocol() {
        Set<String> candidates = candidateProtocols();
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (Member m : members.values()) {
            String v = m.vote(candidates);
            if (v != null) {
                votes.merge(v, 1, Integer::sum);
            }
        }
        String best = null;
        int bestVotes = -1;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > bestVotes) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    /**
     * Topics the members subscribe to, read from their "consumer" protocol subscriptions; null when
     * they cannot be known (another protocol type or an unreadable subscription), which callers treat
     * as "every topic".
     */
    Set<String> subscribedTopics() {
        if (members.isEmpty()) {
            return Set.of();
        }
        if (!"consumer".equals(protocolType) || protocolName == null) {
            return null;
        }
        Set<String> topics = new HashSet<>();
        for (Member m : members.values()) {
            byte[] md = m.metadata(protocolName);
            if (md == null) {
                return null;
            }
            try {
                // ConsumerProtocolSubscription: int16 version, then topics as an int32-counted array of int16 strings
                ByteBuffer b = ByteBuffer.wrap(md);
                b.getShort();
                int n = b.getInt();
                for (int i = 0; i < n; i++) {
                    byte[] name = new byte[b.getShort()];
                    b.get(name);
                    topics.add(new String(name, StandardCharsets.UTF_8));
                }
            } catch (BufferUnderflowException | IllegalArgumentException | NegativeArraySizeException e) {
                return null;
            }
        }
        return topics;
    }
}
