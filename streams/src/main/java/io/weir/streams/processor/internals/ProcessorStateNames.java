package io.weir.streams.processor.internals;

/** The names of a job's internal topics, in one place (the runtime creates topics by these names). */
public final class ProcessorStateNames {
    private ProcessorStateNames() {
    }

    public static String changelogTopic(String applicationId, String storeName) {
        return applicationId + "-" + storeName + "-changelog";
    }

    /** {@code name} is the repartition's base name, e.g. {@code count-by-word}. */
    public static String repartitionTopic(String applicationId, String name) {
        return applicationId + "-" + name + "-repartition";
    }
}
