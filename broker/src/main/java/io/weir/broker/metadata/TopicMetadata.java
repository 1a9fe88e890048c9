package io.weir.broker.metadata;

import java.util.Map;
import java.util.UUID;

/** What the cluster knows about one topic. Immutable; changes make a new instance. */
public record TopicMetadata(String name, UUID topicId, int partitionCount, short replicationFactor,
                            Map<String, String> configs) {
    public TopicMetadata {
        configs = Map.copyOf(configs);
    }

    public TopicMetadata withPartitionCount(int count) {
        return new TopicMetadata(name, topicId, count, replicationFactor, configs);
    }

    public TopicMetadata withConfigs(Map<String, String> newConfigs) {
        return new TopicMetadata(name, topicId, partitionCount, replicationFactor, newConfigs);
    }

    /** Kafka's rule: legal names are 1-249 characters of [a-zA-Z0-9._-], and not "." or "..". */
    public static String validateName(String name) {
        if (name == null || name.isEmpty()) {
            return "topic name is empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "topic name cannot be '.' or '..'";
        }
        if (name.length() > 249) {
            return "topic name is longer than 249 characters";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) {
                return "topic name '" + name + "' has the illegal character '" + c + "' (allowed: a-z A-Z 0-9 . _ -)";
            }
        }
        return null;
    }

    public static boolean isInternal(String name) {
        return name.equals("__consumer_offsets") || name.equals("__transaction_state");
    }
}
