package io.weir.admin;

/**
 * The answer of {@link Admin#listOffsets} for one partition: the offset found (-1 when no record
 * matches a timestamp), its record timestamp (-1 for earliest/latest) and leader epoch (-1 if
 * unknown). Immutable.
 */
public record ListOffsetsResultInfo(long offset, long timestamp, int leaderEpoch) {
}
