package io.weir.log;

/**
 * The answer to "where did leader epoch N end in this log?": the largest epoch at or below N that the
 * log knows, and the first offset after it (the log end for the latest epoch); both -1 when undefined.
 */
public record EpochEndOffset(int leaderEpoch, long endOffset) {
}
