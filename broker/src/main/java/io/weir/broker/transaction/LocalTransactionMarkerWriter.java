package io.weir.broker.transaction;

import io.weir.broker.group.GroupCoordinatorService;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.AppendOrigin;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link TransactionMarkerWriter} of partitions led by this broker: a data partition gets the control
 * batch through {@link ReplicaManager#appendAsLeader} (its producer state closes the transaction, moves the
 * LSO and records an abort in the {@code .txnindex}); a partition of {@code __consumer_offsets} gets it
 * through the group coordinator, whose shard turns the transaction's pending offsets into committed ones
 * (or drops them) in the same step. The WriteTxnMarkers API answers through this class too.
 *
 * <p>A partition the cluster's metadata says another broker leads gets NOT_LEADER_OR_FOLLOWER and no
 * marker: a replica that is not the leader must not write to its log (the marker's sender asks again,
 * at the leader).
 *
 * <p>Thread-safe.
 */
public final class LocalTransactionMarkerWriter implements TransactionMarkerWriter {
    private final ReplicaManager replicaManager;
    private final GroupCoordinatorService groups;
    private final MetadataStore store;
    private final Time time;

    public LocalTransactionMarkerWriter(ReplicaManager replicaManager, GroupCoordinatorService groups,
                                       MetadataStore store, Time time) {
        this.replicaManager = replicaManager;
        this.groups = groups;
        this.store = store;
        this.time = time;
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Errors>> writeMarkers(long producerId, short producerEpoch,
                                                                     int coordinatorEpoch, boolean commit,
                                                                     Set<TopicPartition> partitions) {
        Map<TopicPartition, CompletableFuture<Errors>> results = new LinkedHashMap<>();
        int me = replicaManager.brokerId();
        for (TopicPartition tp : partitions) {
            if (store.partitionState(tp).map(state -> state.leader() != me).orElse(false)) {
                results.put(tp, CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER));
            } else if (GroupCoordinatorService.isOffsetsTopic(tp.topic())) {
                results.put(tp, groups.completeTransaction(tp, producerId, producerEpoch, coordinatorEpoch, commit));
            } else {
                results.put(tp, CompletableFuture.completedFuture(
                    appendMarker(tp, producerId, producerEpoch, coordinatorEpoch, commit)));
            }
        }
        List<CompletableFuture<Errors>> all = new ArrayList<>(results.values());
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).thenApply(v -> {
            Map<TopicPartition, Errors> out = new LinkedHashMap<>();
            results.forEach((tp, f) -> out.put(tp, f.join()));
            return out;
        });
    }

    private Errors appendMarker(TopicPartition tp, long producerId, short producerEpoch, int coordinatorEpoch,
                                boolean commit) {
        java.nio.ByteBuffer batch = new RecordBatchBuilder(CompressionType.NONE)
            .producer(producerId, producerEpoch, RecordBatch.NO_SEQUENCE).transactional(true)
            .appendControl(time.milliseconds(), commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
                coordinatorEpoch)
            .build();
        return replicaManager.appendAsLeader(tp, Records.wrap(batch), (short) -1, AppendOrigin.COORDINATOR).error();
    }
}
