package io.weir.log;

/**
 * Who is appending to a log, which decides how strictly the batches are checked (Kafka's
 * {@code AppendOrigin}): a client's batches must be exactly what a producer writes; a coordinator
 * of this broker may also write control batches; a follower copies what its leader stored, which
 * after compaction may hold fewer records than its offset range.
 */
public enum AppendOrigin {
    /** A producer over the wire: no control batches, consistent producer fields, offsets dense. */
    CLIENT,
    /** A coordinator inside the broker (group offsets, transaction markers): control batches allowed. */
    COORDINATOR,
    /** A follower appending its leader's batches: compacted batches (gaps, zero records) allowed. */
    REPLICATION
}
