package io.weir.streams.state;

/**
 * Receives every write of a store (serialized key, serialized value, null for a delete) so the task
 * can send it to the store's changelog topic in the same transaction as the task's output and input
 * offsets. The task stamps the record with the timestamp of the record being processed.
 */
@FunctionalInterface
public interface ChangelogSink {

    /** For stores with logging disabled. */
    ChangelogSink NONE = (key, value) -> { };

    void logChange(byte[] key, byte[] value);
}
