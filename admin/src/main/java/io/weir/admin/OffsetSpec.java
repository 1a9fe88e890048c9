package io.weir.admin;

/**
 * What {@link Admin#listOffsets} looks up in a partition: the earliest offset (log start), the
 * latest (log end: the offset the next record will get), or the first offset whose timestamp is
 * at or after a time. Carries the ListOffsets wire value (-2 earliest, -1 latest, else the
 * timestamp in ms). Immutable.
 */
public final class OffsetSpec {
    private static final OffsetSpec EARLIEST = new OffsetSpec(-2L);
    private static final OffsetSpec LATEST = new OffsetSpec(-1L);

    private final long timestamp;

    private OffsetSpec(long timestamp) {
        this.timestamp = timestamp;
    }

    public static OffsetSpec earliest() {
        return EARLIEST;
    }

    public static OffsetSpec latest() {
        return LATEST;
    }

    public static OffsetSpec forTimestamp(long timestampMs) {
        if (timestampMs < 0) {
            throw new IllegalArgumentException("timestamp must not be negative: " + timestampMs);
        }
        return new OffsetSpec(timestampMs);
    }

    /** The value sent in ListOffsets' timestamp field. */
    public long wireTimestamp() {
        return timestamp;
    }

    @Override
    public String toString() {
        return timestamp == -2L ? "earliest" : timestamp == -1L ? "latest" : "timestamp " + timestamp;
    }
}
