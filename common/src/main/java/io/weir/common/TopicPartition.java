package io.weir.common;

/**
 * A partition of a topic; its log directory is named {@code <topic>-<partition>}. Immutable.
 *
 * <p>Like Kafka's, any name and index can be held: a request may name partition -1 or topic "",
 * and the broker answers UNKNOWN_TOPIC_OR_PARTITION where it resolves partitions rather than
 * failing while it reads the request. Only {@link #isValid()} pairs can have a log.
 */
public record TopicPartition(String topic, int partition) {
    public TopicPartition {
        if (topic == null) {
            throw new IllegalArgumentException("topic of partition " + partition + " is null");
        }
    }

    /** Whether this can name a real partition: a non-empty topic and an index of 0 or more. */
    public boolean isValid() {
        return !topic.isEmpty() && partition >= 0;
    }

    public String dirName() {
        return topic + "-" + partition;
    }

    /** Parses a directory name {@code <topic>-<partition>}; null if it is not one. */
    public static TopicPartition fromDirName(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) {
            return null;
        }
        try {
            int p = Integer.parseInt(name.substring(dash + 1));
            return p < 0 ? null : new TopicPartition(name.substring(0, dash), p);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    // equals and hashCode written out: a record's generated ones link through an invokedynamic bootstrap
    // on first use (tens of ms in a short-lived client), and this is the hottest map key of clients and broker

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicPartition tp && partition == tp.partition && topic.equals(tp.topic);
    }

    @Override
    public int hashCode() {
        return 31 * topic.hashCode() + partition;
    }

    @Override
    public String toString() {
        return dirName();
    }
}
