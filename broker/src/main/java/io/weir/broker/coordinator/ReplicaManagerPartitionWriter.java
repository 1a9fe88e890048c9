package io.weir.broker.coordinator;

import io.weir.broker.coordinator.runtime.CoordinatorException;
import io.weir.broker.coordinator.runtime.CoordinatorLoader;
import io.weir.broker.coordinator.runtime.PartitionWriter;
import io.weir.broker.coordinator.runtime.SerializedRecord;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.ControlRecordType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.Record;
import io.weir.common.record.RecordBatch;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.ActiveProducer;
import io.weir.log.AppendOrigin;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The broker's {@link PartitionWriter} and {@link CoordinatorLoader}: coordinator records go through
 * {@link ReplicaManager#appendAsLeader} like a produce with acks=all, and are read back from the
 * partition's log up to its log end (see {@link CoordinatorLoader#load}).
 *
 * <p>Committed means below the high watermark. Each append waits for it through
 * {@link ReplicaManager#awaitHighWatermark}: on one broker the append moves the high watermark to the
 * log end at once, so the listeners are told right after the append; with followers, when their
 * fetches move it past the appended records (never, if leadership moves first).
 *
 * <p>Thread-safe; holds no lock while appending.
 */
public final class ReplicaManagerPartitionWriter implements PartitionWriter, CoordinatorLoader {
    private static final int LOAD_READ_BYTES = 5 * 1024 * 1024;

    private final ReplicaManager replicaManager;
    private final Map<TopicPartition, List<Listener>> listeners = new ConcurrentHashMap<>();

    public ReplicaManagerPartitionWriter(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
    }

    @Override
    public void registerListener(TopicPartition tp, Listener listener) {
        listeners.computeIfAbsent(tp, k -> new CopyOnWriteArrayList<>()).add(listener);
    }

    @Override
    public void deregisterListener(TopicPartition tp, Listener listener) {
        List<Listener> l = listeners.get(tp);
        if (l != null) {
            l.remove(listener);
        }
    }

    @Override
    public long append(TopicPartition tp, long timestampMs, List<SerializedRecord> records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE);
        for (SerializedRecord r : records) {
            builder.append(timestampMs, r.key(), r.value());
        }
        return appendBatch(tp, builder.build());
    }

    @Override
    public long appendTransactional(TopicPartition tp, long timestampMs, long producerId, short producerEpoch,
                                    List<SerializedRecord> records) {
        // only this partition's coordinator shard appends here, one operation at a time: the sequence read
        // from the producer state is still the last one when the batch is appended
        Partition p = replicaManager.partition(tp);
        int sequence = 0;
        if (p != null) {
            java.util.Optional<ActiveProducer> known = p.log().activeProducer(producerId);
            if (known.isPresent() && known.get().epoch() == producerEpoch && known.get().lastSequence() >= 0) {
                sequence = known.get().lastSequence() + 1;
            }
        }
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE)
            .producer(producerId, producerEpoch, sequence).transactional(true);
        for (SerializedRecord r : records) {
            builder.append(timestampMs, r.key(), r.value());
        }
        return appendBatch(tp, builder.build());
    }

    @Override
    public long appendEndMarker(TopicPartition tp, long timestampMs, long producerId, short producerEpoch,
                                int coordinatorEpoch, boolean commit) {
        ByteBuffer marker = new RecordBatchBuilder(CompressionType.NONE)
            .producer(producerId, producerEpoch, RecordBatch.NO_SEQUENCE).transactional(true)
            .appendControl(timestampMs, commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, coordinatorEpoch)
            .build();
        return appendBatch(tp, marker);
    }

    private long appendBatch(TopicPartition tp, ByteBuffer batch) {
        long span = 0;
        for (RecordBatch b : MemoryRecords.readableRecords(batch.duplicate())) {
            span += b.lastOffsetDelta() + 1L;
        }
        ReplicaManager.AppendResult r = replicaManager.appendAsLeader(tp, Records.wrap(batch), (short) -1,
            AppendOrigin.COORDINATOR);
        if (r.error() != Errors.NONE) {
            throw new CoordinatorException.AppendFailed(r.error(), r.errorMessage());
        }
        // committed once the ISR has it: at once when this leader is the whole ISR, else after followers' fetches
        replicaManager.awaitHighWatermark(tp, r.baseOffset() + Math.max(1, span)).thenAccept(hw -> onHighWatermark(tp, hw));
        return r.baseOffset();
    }

    /** Tells the partition's listeners that everything below {@code highWatermark} is committed. */
    public void onHighWatermark(TopicPartition tp, long highWatermark) {
        List<Listener> l = listeners.get(tp);
        if (l != null) {
            for (Listener listener : l) {
                listener.onCommitted(tp, highWatermark);
            }
        }
    }

    @Override
    public long load(TopicPartition tp, RecordSink sink) {
        Partition p = replicaManager.partition(tp);
        if (p == null) {
            return 0;
        }
        Log l = p.log();
        long offset = l.logStartOffset();
        // to the log end, not the high watermark: a new leader's high watermark lags until its followers
        // fetch, and the records above it are this leader's log, which its followers now copy (Kafka's
        // coordinators load to the log end too)
        long end = l.logEndOffset();
        while (offset < end) {
            FetchDataInfo info = l.read(offset, LOAD_READ_BYTES, end, true);
            if (info.records().sizeInBytes() == 0) {
                break;
            }
            MemoryRecords batches;
            try {
                batches = info.records().readRecords();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + tp + " at " + offset, e);
            }
            long next = offset;
            for (RecordBatch batch : batches) {
                next = Math.max(next, batch.nextOffset());
                if (batch.isControlBatch()) {
                    Iterator<Record> it = batch.records();
                    if (it.hasNext() && batch.baseOffset() >= offset && batch.baseOffset() < end) {
                        ControlRecordType type = ControlRecordType.parse(it.next().key());
                        if (type == ControlRecordType.COMMIT || type == ControlRecordType.ABORT) {
                            sink.endMarker(batch.baseOffset(), batch.producerId(), batch.producerEpoch(),
                                type == ControlRecordType.COMMIT);
                        }
                    }
                    continue;
                }
                long producerId = batch.isTransactional() ? batch.producerId() : -1;
                short producerEpoch = batch.isTransactional() ? batch.producerEpoch() : -1;
                for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                    Record r = it.next();
                    if (r.offset() < offset || r.offset() >= end || !r.hasKey()) {
                        continue;
                    }
                    sink.accept(r.offset(), producerId, producerEpoch, r.key(), r.hasValue() ? r.value() : null);
                }
            }
            if (next <= offset) {
                break;
            }
            offset = next;
        }
        return end;
    }
}
