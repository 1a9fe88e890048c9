package io.weir.log;

/** A partition of a topic; its log directory is named {@code <topic>-<partition>}. Immutable. */
public record TopicPartition(String topic, int partition) {
    public TopicPartition {
        if (topic == null || topic.isEmpty() || partition < 0) {
            throw new IllegalArgumentException("bad topic partition " + topic + "-" + partition);
        }
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

    @Override
    public String toString() {
        return dirName();
    }
}
