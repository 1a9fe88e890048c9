package io.weir.streams.processor;

/**
 * A task: one sub-topology working on one partition of its input topics. Its text form
 * {@code <subtopology>_<partition>} names the task's state directory, as in Kafka Streams.
 */
public record TaskId(int subtopology, int partition) implements Comparable<TaskId> {

    /** Parses {@code <subtopology>_<partition>}. */
    public static TaskId parse(String text) {
        int sep = text.indexOf('_');
        if (sep <= 0) {
            throw new IllegalArgumentException("task id must be <subtopology>_<partition>, got " + text);
        }
        return new TaskId(Integer.parseInt(text.substring(0, sep)), Integer.parseInt(text.substring(sep + 1)));
    }

    @Override
    public int compareTo(TaskId o) {
        int c = Integer.compare(subtopology, o.subtopology);
        return c != 0 ? c : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return subtopology + "_" + partition;
    }
}
