package io.weir.admin;

import java.util.UUID;

/**
 * What the broker reports about a topic it created (or would create, with validateOnly):
 * partition count and replication factor are -1 when the broker did not say.
 */
public record CreatedTopic(String name, UUID topicId, int numPartitions, short replicationFactor) {
}
