package io.weir.broker.api;

import io.weir.broker.purgatory.DelayedOperation;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;

import java.util.Map;

/**
 * An acks=all produce waiting until every partition's high watermark (the in-sync replicas' common
 * log end) reaches the end of what it appended, or the request's {@code timeout.ms}, which answers
 * the partitions still waiting with REQUEST_TIMED_OUT. Watched under its partitions: whoever moves a
 * high watermark checks the produce purgatory for that partition. On one broker the leader is the
 * whole ISR, so the condition holds right after the append and the operation completes when parked;
 * with followers it waits for their fetches. A partition no longer led here, or led at another epoch
 * than the append's, answers NOT_LEADER_OR_FOLLOWER.
 *
 * <p>Thread-safe: the pending flags are read and written under the operation's lock
 * ({@link #tryComplete}) and read again only by the one thread that completes it.
 */
public final class DelayedProduce extends DelayedOperation {
    /** One appended partition: its response entry and the offset the ISR must reach. */
    static final class Pending {
        final ProduceResponse.PartitionProduceResponse response;
        final long requiredOffset;
        /** The leader epoch the records were appended at (-1: not checked). */
        final int leaderEpoch;
        volatile boolean acknowledged;

        Pending(ProduceResponse.PartitionProduceResponse response, long requiredOffset) {
            this(response, requiredOffset, -1);
        }

        Pending(ProduceResponse.PartitionProduceResponse response, long requiredOffset, int leaderEpoch) {
            this.response = response;
            this.requiredOffset = requiredOffset;
            this.leaderEpoch = leaderEpoch;
        }
    }

    private final RequestContext ctx;
    private final ApiHandler handler;
    private final ProduceRequest request;
    private final ProduceResponse response;
    private final Map<TopicPartition, Pending> pending;
    private final ReplicaManager replicaManager;

    DelayedProduce(long timeoutMs, RequestContext ctx, ApiHandler handler, ProduceRequest request,
                   ProduceResponse response, Map<TopicPartition, Pending> pending, ReplicaManager replicaManager) {
        super(timeoutMs);
        this.ctx = ctx;
        this.handler = handler;
        this.request = request;
        this.response = response;
        this.pending = pending;
        this.replicaManager = replicaManager;
    }

    @Override
    public boolean tryComplete() {
        boolean all = true;
        for (Map.Entry<TopicPartition, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            if (p.acknowledged) {
                continue;
            }
            Partition partition = replicaManager.partition(e.getKey());
            if (partition == null || !partition.isLeader()
                || (p.leaderEpoch >= 0 && partition.leaderEpoch() != p.leaderEpoch)) {
                // deleted, or leadership moved, while waiting: the records may not survive
                p.response.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()).setBaseOffset(-1);
                p.acknowledged = true;
            } else if (partition.highWatermark() >= p.requiredOffset) {
                if (partition.inSyncReplicaCount() < partition.minInsyncReplicas()) {
                    p.response.setErrorCode(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code());
                }
                p.acknowledged = true;
            } else {
                all = false;
            }
        }
        return all && forceComplete();
    }

    @Override
    protected void onComplete() {
        for (Pending p : pending.values()) {
            if (!p.acknowledged) {
                p.response.setErrorCode(Errors.REQUEST_TIMED_OUT.code());
            }
        }
        ctx.respond(response);
    }

    @Override
    protected void onExpiration() {
        // the timed-out partitions were answered in onComplete
    }

    @Override
    protected void onCompletionFailure(Throwable failure) {
        RequestDispatcher.answerWithError(ctx, handler, request, Errors.forException(failure));
    }

    @Override
    public String toString() {
        return "DelayedProduce(" + ctx.connectionId() + ", " + pending.keySet() + ")";
    }
}
