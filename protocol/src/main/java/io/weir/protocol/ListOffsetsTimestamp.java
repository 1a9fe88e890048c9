package io.weir.protocol;

/**
 * The negative "timestamps" of a ListOffsets request that name an offset instead of a time, with
 * Kafka's wire values. Any other negative timestamp is invalid; non-negative ones are times in ms.
 */
public enum ListOffsetsTimestamp {
    /** The offset of the next record (high watermark, or last stable offset under read_committed). */
    LATEST(-1L),
    /** The log start offset. */
    EARLIEST(-2L),
    /** The offset of the record with the largest timestamp (KIP-734). */
    MAX_TIMESTAMP(-3L),
    /** The first offset still on local disk (KIP-405); without tiered storage, the log start offset. */
    EARLIEST_LOCAL(-4L),
    /** The highest offset in tiered storage (KIP-1005); without tiered storage, none (-1). */
    LATEST_TIERED(-5L);

    private final long value;

    ListOffsetsTimestamp(long value) {
        this.value = value;
    }

    /** The value on the wire. */
    public long value() {
        return value;
    }

    /** The special timestamp with this wire value, or null (a real timestamp, or an invalid negative one). */
    public static ListOffsetsTimestamp forValue(long timestamp) {
        for (ListOffsetsTimestamp t : values()) {
            if (t.value == timestamp) {
                return t;
            }
        }
        return null;
    }
}
