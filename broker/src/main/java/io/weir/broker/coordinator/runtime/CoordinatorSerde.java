package io.weir.broker.coordinator.runtime;

import java.nio.ByteBuffer;

/**
 * Turns a coordinator's records into the key/value bytes of its internal topic and back.
 *
 * @param <R> the record type
 */
public interface CoordinatorSerde<R> {
    SerializedRecord serialize(R record);

    /**
     * The record stored under {@code key} with {@code value} (null for a tombstone); null to skip a
     * record this coordinator does not own. Throws {@code CorruptRecordException} for unreadable bytes.
     */
    R deserialize(ByteBuffer key, ByteBuffer value);
}
