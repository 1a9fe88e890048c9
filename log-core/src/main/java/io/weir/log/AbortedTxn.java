package io.weir.log;

/**
 * One aborted transaction of one producer in a partition: the offsets of its first record and of its
 * abort marker, and the last stable offset when the marker was written. A read_committed fetch uses
 * these ranges to drop aborted records.
 */
public record AbortedTxn(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
}
