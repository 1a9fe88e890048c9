package io.weir.admin;

import io.weir.common.TopicPartition;

import java.util.List;

/**
 * One member of a consumer group: its ids, where it connects from, and the partitions the group
 * leader assigned to it (decoded from Kafka's ConsumerProtocol assignment; empty while the group
 * rebalances). {@code groupInstanceId} is null unless the member uses static membership. Immutable.
 */
public record MemberDescription(String memberId, String groupInstanceId, String clientId, String host,
                                List<TopicPartition> assignment) {
    public MemberDescription {
        assignment = List.copyOf(assignment);
    }
}
