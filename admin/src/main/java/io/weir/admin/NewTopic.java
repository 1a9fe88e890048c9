package io.weir.admin;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A topic to create: name, partition count and replication factor (empty for the broker's defaults
 * {@code num.partitions} and {@code default.replication.factor}), and topic config overrides.
 */
public record NewTopic(String name, Optional<Integer> numPartitions, Optional<Short> replicationFactor,
                       Map<String, String> configs) {
    public NewTopic {
        Objects.requireNonNull(name, "name");
        configs = configs == null ? Map.of() : Map.copyOf(configs);
    }

    public NewTopic(String name, int numPartitions, short replicationFactor) {
        this(name, Optional.of(numPartitions), Optional.of(replicationFactor), Map.of());
    }

    /** The same topic with these config overrides. */
    public NewTopic configs(Map<String, String> overrides) {
        return new NewTopic(name, numPartitions, replicationFactor, overrides);
    }
}
