package io.weir.streams.processor;

import io.weir.streams.serialization.Serde;
import io.weir.streams.state.ChangelogSink;

import java.nio.file.Path;
import java.util.Map;

/** What a {@link StateStore} learns of its task when it is opened. */
public interface StateStoreContext {
    String applicationId();

    TaskId taskId();

    /** The task's state directory; persistent engines keep their files under it. */
    Path stateDir();

    /** The job's configuration. */
    Map<String, Object> appConfigs();

    /** The default key serde ({@code default.key.serde}); fails if none is configured. */
    Serde<?> keySerde();

    /** The default value serde ({@code default.value.serde}); fails if none is configured. */
    Serde<?> valueSerde();

    /** Registers an opened store so that the task commits and aborts it with its transaction and closes it. */
    void register(StateStore store);

    /**
     * Where the store hands each write (key bytes, value bytes; null value = delete) so that the task
     * sends it to the store's changelog topic {@code <application.id>-<store>-changelog} in the same
     * transaction as the output and the input offsets.
     */
    ChangelogSink changelogSink(String storeName);
}
