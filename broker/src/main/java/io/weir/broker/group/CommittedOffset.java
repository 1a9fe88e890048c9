package io.weir.broker.group;

/**
 * One committed position of a group in one partition, as stored in {@code __consumer_offsets}.
 *
 * @param offset            the next offset the group will consume
 * @param leaderEpoch       leader epoch of the last consumed record, or -1
 * @param metadata          client metadata (never null; "" when none)
 * @param commitTimestampMs when the coordinator accepted the commit
 */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestampMs) {
    public CommittedOffset {
        if (metadata == null) {
            metadata = "";
        }
    }
}
