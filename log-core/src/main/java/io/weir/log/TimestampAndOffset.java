package io.weir.log;

/** The answer to a ListOffsets-by-timestamp lookup: a record's timestamp and offset. */
public record TimestampAndOffset(long timestamp, long offset) {
}
