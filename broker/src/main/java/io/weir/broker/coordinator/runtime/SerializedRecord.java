package io.weir.broker.coordinator.runtime;

import java.nio.ByteBuffer;

/**
 * A coordinator record as it is stored in its compacted topic: a key, and a value or null for a
 * tombstone.
 */
public record SerializedRecord(ByteBuffer key, ByteBuffer value) {
}
