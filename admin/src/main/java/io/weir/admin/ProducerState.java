package io.weir.admin;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A producer with state in one partition ({@link Admin#describeProducers}), from the partition
 * leader's producer state: its id and epoch, the last sequence and timestamp it appended, the
 * coordinator epoch of its last marker, and where its open transaction starts (a transaction that
 * never ends holds the last stable offset back: {@link Admin#abortTransaction} clears it). Immutable.
 */
public record ProducerState(long producerId, int producerEpoch, int lastSequence, long lastTimestamp,
                            OptionalInt coordinatorEpoch, OptionalLong currentTransactionStartOffset) {
}
