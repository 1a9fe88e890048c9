package io.weir.consumer;

import java.util.Objects;
import java.util.Optional;

/**
 * A consumer's membership in its group at one moment: group id, generation, member id and static
 * instance id. A transactional producer passes it to {@code sendOffsetsToTransaction} so the group
 * coordinator refuses offsets from a member that has been fenced by a rebalance (KIP-447). Immutable.
 *
 * @param groupId the group
 * @param generationId the generation the member belongs to, -1 when not in one
 * @param memberId the member id, "" when not in a generation
 * @param groupInstanceId {@code group.instance.id} for static members
 */
public record ConsumerGroupMetadata(String groupId, int generationId, String memberId,
                                    Optional<String> groupInstanceId) {
    public ConsumerGroupMetadata {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(groupInstanceId, "groupInstanceId");
    }

    /** Metadata with only a group id: offsets are then not fenced by generation (as with an unsubscribed consumer). */
    public ConsumerGroupMetadata(String groupId) {
        this(groupId, -1, "", Optional.empty());
    }
}
