package io.weir.log;

/** A transaction that a commit or abort marker just closed: its producer, its first record and the marker's offset. */
public record CompletedTxn(long producerId, long firstOffset, long lastOffset, boolean isAborted) {
}
