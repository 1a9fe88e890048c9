package io.weir.broker.api;

import io.weir.broker.purgatory.DelayedOperation;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.log.LogOffsetMetadata;
import io.weir.protocol.Errors;

import java.util.List;

/**
 * A fetch waiting for {@code fetch.min.bytes} ("long polling") until its {@code fetch.max.wait.ms}.
 * {@link #tryComplete()} reads nothing: for each partition it compares the fetch offset's position
 * (from the read that parked it) with the position of the fetchable end (the high watermark, or the
 * last stable offset under read_committed) and adds up the bytes in between, capped per partition.
 * The read and the serialization happen once, in {@link #onComplete()}.
 *
 * <p>A follower's partition held back by the leader-side replication throttle adds no bytes.
 *
 * <p>It completes early, for the read to report it, when a partition is gone, when its end moved
 * below the fetch offset (truncation) or onto another segment, or when a position cannot be compared
 * (the end lags the log end, where only its offset is known; see issue 9 §5.6).
 *
 * <p>Thread-safe: {@code tryComplete} runs under the operation's lock; the positions are immutable.
 */
public final class DelayedFetch extends DelayedOperation {
    /** Where one partition's fetch starts, and at most how many of its bytes count. */
    record Position(TopicPartition topicPartition, LogOffsetMetadata fetchOffset, int maxBytes) {
    }

    private final FetchHandler handler;
    private final FetchHandler.Fetch fetch;
    private final List<Position> positions;
    private final ReplicaManager replicaManager;
    private final long minBytes;

    DelayedFetch(long maxWaitMs, FetchHandler handler, FetchHandler.Fetch fetch, List<Position> positions,
                 ReplicaManager replicaManager) {
        super(maxWaitMs);
        this.handler = handler;
        this.fetch = fetch;
        this.positions = positions;
        this.replicaManager = replicaManager;
        this.minBytes = Math.max(1, fetch.req.minBytes());
    }

    @Override
    public boolean tryComplete() {
        long accumulated = 0;
        for (Position p : positions) {
            Partition partition = replicaManager.partition(p.topicPartition());
            if (partition == null || !partition.isLeader()) {
                return forceComplete(); // the read answers UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER
            }
            if (fetch.replicaId >= 0 && replicaManager.shouldLeaderThrottle(partition, fetch.replicaId)) {
                continue; // its bytes would be held back: they do not count (Kafka's rule), the fetch waits
            }
            LogOffsetMetadata start = p.fetchOffset();
            LogOffsetMetadata end = fetchableEnd(partition);
            if (end.messageOffset() == start.messageOffset()) {
                continue;
            }
            if (end.messageOffset() < start.messageOffset()
                || start.relativePositionInSegment() == LogOffsetMetadata.UNKNOWN_POSITION
                || end.relativePositionInSegment() == LogOffsetMetadata.UNKNOWN_POSITION
                || start.segmentBaseOffset() != end.segmentBaseOffset()) {
                return forceComplete();
            }
            long bytes = end.relativePositionInSegment() - start.relativePositionInSegment();
            accumulated += Math.min(Math.max(0, bytes), p.maxBytes());
        }
        return accumulated >= minBytes && forceComplete();
    }

    /**
     * The end the fetcher may read to, with its position: a follower's is the log end; a consumer's the
     * high watermark (which keeps its position), or the last stable offset under read_committed.
     */
    private LogOffsetMetadata fetchableEnd(Partition partition) {
        LogOffsetMetadata logEnd = partition.log().logEndOffsetMetadata();
        if (fetch.replicaId >= 0) {
            return logEnd;
        }
        LogOffsetMetadata hw = partition.highWatermarkMetadata();
        long upper = fetch.readCommitted ? partition.lastStableOffset() : hw.messageOffset();
        if (logEnd.messageOffset() == upper) {
            return logEnd;
        }
        return hw.messageOffset() == upper ? hw : new LogOffsetMetadata(upper);
    }

    @Override
    protected void onComplete() {
        fetch.ctx.mark(io.weir.broker.network.RequestStages.Stage.WOKEN);
        handler.complete(fetch);
    }

    @Override
    protected void onExpiration() {
        // answered in onComplete with whatever there was
    }

    @Override
    protected void onCompletionFailure(Throwable failure) {
        RequestDispatcher.answerWithError(fetch.ctx, handler, fetch.req, Errors.forException(failure));
    }

    @Override
    public String toString() {
        return "DelayedFetch(" + fetch.ctx.connectionId() + ", " + positions.size() + " partitions)";
    }
}
