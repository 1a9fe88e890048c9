package io.weir.streams.state;

import io.weir.streams.processor.StateStore;

import java.util.Map;

/**
 * Describes a store a topology adds (name, engine, serdes, changelog) and builds a new instance of it
 * for each task. Logging (a changelog topic {@code <application.id>-<name>-changelog}) is on by default.
 */
public interface StoreBuilder<T extends StateStore> {

    StoreBuilder<T> withLoggingEnabled(Map<String, String> changelogTopicConfig);

    StoreBuilder<T> withLoggingDisabled();

    /** Accepted for Kafka compatibility; Weir has no record cache yet, so this changes nothing. */
    StoreBuilder<T> withCachingEnabled();

    StoreBuilder<T> withCachingDisabled();

    String name();

    boolean loggingEnabled();

    /** Extra configs of the changelog topic (it is always compacted). */
    Map<String, String> logConfig();

    /** A new, unopened store; the task opens it with {@code init}. */
    T build();
}
