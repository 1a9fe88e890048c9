package io.weir.admin;

/**
 * One group from {@link Admin#listConsumerGroups}. {@code protocolType} is "consumer" for groups of
 * subscribing consumers and "" for a "simple" group that only stores offsets (consumers that
 * {@code assign()} and commit, or offsets set by an admin). {@code state} is the coordinator's
 * state name ("Stable", "Empty", ...), or "" from brokers older than ListGroups v4. Immutable.
 */
public record ConsumerGroupListing(String groupId, String protocolType, String state) {
    public boolean isSimpleConsumerGroup() {
        return protocolType.isEmpty();
    }
}
