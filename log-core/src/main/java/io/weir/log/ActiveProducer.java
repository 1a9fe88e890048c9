package io.weir.log;

/**
 * One producer's state in a partition, as DescribeProducers reports it: its epoch, the last sequence
 * it wrote (-1 when none is remembered), when, the coordinator epoch of its last marker, and the first
 * offset of its open transaction (-1 when none). A copy: it does not change with later appends.
 */
public record ActiveProducer(long producerId, short epoch, int lastSequence, long lastTimestamp,
                             int coordinatorEpoch, long currentTxnStartOffset) {
}
