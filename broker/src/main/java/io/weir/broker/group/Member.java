package io.weir.broker.group;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * One member of a classic group: its identity, timeouts, the protocols it offered in its last
 * JoinGroup, its current assignment, and the JoinGroup or SyncGroup response it is waiting for.
 *
 * <p>Not thread-safe: owned, like its {@link Group}, by the group's shard.
 */
final class Member {
    /** One assignor the member supports, with its subscription bytes. */
    record Protocol(String name, byte[] metadata) {
    }

    static final byte[] EMPTY_BYTES = new byte[0];

    final String memberId;
    final String groupInstanceId;
    String clientId;
    String clientHost;
    int rebalanceTimeoutMs;
    int sessionTimeoutMs;
    String protocolType;
    List<Protocol> protocols;
    byte[] assignment = EMPTY_BYTES;
    /** Set while the member waits for the join phase to complete. */
    Consumer<GroupCoordinatorShard.JoinResult> awaitingJoin;
    /** Set while the member waits for the leader's assignment. */
    Consumer<GroupCoordinatorShard.SyncResult> awaitingSync;
    long heartbeatDeadlineMs;
    /** Joined in the current rebalance (not yet part of a completed generation). */
    boolean isNew;

    Member(String memberId, String groupInstanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
           int sessionTimeoutMs, String protocolType, List<Protocol> protocols) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.protocolType = protocolType;
        this.protocols = protocols;
    }

    /** The same member under a new id (a static member rejoining from a new process). */
    Member withNewId(String newId) {
        Member m = new Member(newId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs,
            protocolType, protocols);
        m.assignment = assignment;
        m.heartbeatDeadlineMs = heartbeatDeadlineMs;
        return m;
    }

    /** The subscription bytes this member gave for {@code protocol}, or null if it does not support it. */
    byte[] metadata(String protocol) {
        for (Protocol p : protocols) {
            if (p.name().equals(protocol)) {
                return p.metadata();
            }
        }
        return null;
    }

    boolean sameProtocols(List<Protocol> other) {
        if (other.size() != protocols.size()) {
            return false;
        }
        for (int i = 0; i < other.size(); i++) {
            if (!other.get(i).name().equals(protocols.get(i).name())
                || !Arrays.equals(other.get(i).metadata(), protocols.get(i).metadata())) {
                return false;
            }
        }
        return true;
    }

    /** The first of this member's protocols (its preference order) that is among {@code candidates}. */
    String vote(java.util.Set<String> candidates) {
        for (Protocol p : protocols) {
            if (candidates.contains(p.name())) {
                return p.name();
            }
        }
        return null;
    }
}
