package io.weir.admin;

import io.weir.protocol.client.Node;

import java.util.List;

/**
 * A consumer group as its coordinator sees it: state name ("Stable", "Empty", "PreparingRebalance",
 * "CompletingRebalance"), protocol type ("consumer", or "" for a simple group), the assignor the
 * group chose ("range", "cooperative-sticky", ...; "" unless Stable), the members, and the
 * coordinator broker. Immutable.
 */
public record ConsumerGroupDescription(String groupId, String protocolType, String state, String partitionAssignor,
                                       List<MemberDescription> members, Node coordinator) {
    public ConsumerGroupDescription {
        members = List.copyOf(members);
    }

    public boolean isSimpleConsumerGroup() {
        return protocolType.isEmpty();
    }
}
