package io.weir.broker.server;

import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.TopicPartition;
import io.weir.common.errors.OffsetOutOfRangeException;
import io.weir.common.record.CorruptRecordException;
import io.weir.common.record.InvalidRecordException;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordError;
import io.weir.common.record.RecordTooLargeException;
import io.weir.log.AbortedTxn;
import io.weir.log.AppendOrigin;
import io.weir.log.BatchRecompressor;
import io.weir.log.BatchValidator;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import io.weir.log.LogAppendInfo;
import io.weir.log.LogManager;
import io.weir.log.LogOffsetMetadata;
import io.weir.log.ProducerAppendCheck;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The partitions this broker hosts, and the append and read paths through them. Produce and fetch
 * handlers call it from many threads; each partition's log serializes its own appends. After every
 * append the registered listener is told (it wakes delayed fetches waiting on that partition).
 *
 * <p>Thread-safe.
 */
public final class ReplicaManager {
    private static final Logger log = LoggerFactory.getLogger(ReplicaManager.class);

    private final int brokerId;
    private final LogManager logManager;
    private final TopicConfigs topicConfigs;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private volatile Consumer<TopicPartition> appendListener = tp -> { };
    private final List<LeadershipListener> leadershipListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public ReplicaManager(int brokerId, LogManager logManager, TopicConfigs topicConfigs) {
        this.brokerId = brokerId;
        this.logManager = logManager;
        this.topicConfigs = topicConfigs;
    }

    public int brokerId() {
        return brokerId;
    }

    public void setAppendListener(Consumer<TopicPartition> listener) {
        this.appendListener = listener;
    }

    /**
     * Registers a listener told when this broker starts or stops leading a partition. Until
     * replication decides leadership per partition, every hosted partition is led here: a newly
     * hosted partition is reported as led at epoch 0, and a deleted one as resigned.
     */
    public void addLeadershipListener(LeadershipListener listener) {
        leadershipListeners.add(listener);
    }

    /**
     * Tells the append listener that {@code tp} grew: what {@link #appendAsLeader} does itself unless
     * asked to leave it to the caller (a produce handler wakes parked fetches only after its own
     * response is on its way, so the producer's acknowledgement never waits for a consumer's read).
     */
    public void appended(TopicPartition tp) {
        appendListener.accept(tp);
    }

    /**
     * The hosted partition, or null: the one place a requested (topic, index) is resolved, so a
     * negative index or an empty name from a request is simply not hosted (UNKNOWN_TOPIC_OR_PARTITION).
     */
    public Partition partition(TopicPartition tp) {
        return tp.isValid() ? partitions.get(tp) : null;
    }

    /** Hosts every partition of the topic (opening or creating their logs). */
    public void hostTopic(TopicMetadata topic) {
        hostPartitions(topic, 0, topic.partitionCount());
    }

    /** Hosts partitions [from, to) of the topic. */
    public void hostPartitions(TopicMetadata topic, int from, int to) {
        int minIsr = topicConfigs.minInsyncReplicas(topic.configs());
        TopicConfigs.Compression compression = topicConfigs.compression(topic.configs());
        for (int p = from; p < to; p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            Log l = logManager.getOrCreateLog(tp, topicConfigs.logConfig(topic.configs()));
            boolean[] created = new boolean[1];
            partitions.computeIfAbsent(tp, t -> {
                created[0] = true;
                return new Partition(t, topic.topicId(), l, 0, minIsr);
            }).setCompression(compression);
            if (created[0]) {
                leadershipListeners.forEach(listener -> listener.onBecomeLeader(tp, 0));
            }
        }
    }

    /** Stops hosting the topic and deletes its logs. */
    public void deleteTopic(TopicMetadata topic) {
        for (int p = 0; p < topic.partitionCount(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            if (partitions.remove(tp) != null) {
                leadershipListeners.forEach(listener -> listener.onResign(tp, -1));
            }
            logManager.deleteLog(tp);
        }
    }

    /** Applies changed topic configs to the live logs. */
    public void updateTopicConfig(TopicMetadata topic) {
        int minIsr = topicConfigs.minInsyncReplicas(topic.configs());
        TopicConfigs.Compression compression = topicConfigs.compression(topic.configs());
        for (int p = 0; p < topic.partitionCount(); p++) {
            Partition partition = partitions.get(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(topicConfigs.logConfig(topic.configs()));
                partition.setMinInsyncReplicas(minIsr);
                partition.setCompression(compression);
            }
        }
    }

    /**
     * The outcome of appending one partition's records; {@code recordErrors} names the records that
     * made an INVALID_RECORD batch fail (Produce v8+), else it is empty.
     */
    public record AppendResult(Errors error, String errorMessage, long baseOffset, long logAppendTimeMs,
                               long logStartOffset, List<RecordError> recordErrors) {
        public AppendResult(Errors error, String errorMessage, long baseOffset, long logAppendTimeMs, long logStartOffset) {
            this(error, errorMessage, baseOffset, logAppendTimeMs, logStartOffset, List.of());
        }

        static AppendResult error(Errors e, String message) {
            return new AppendResult(e, message, -1, -1, -1);
        }
    }

    /** {@link #appendAsLeader(TopicPartition, Records, short, AppendOrigin)} for a producer's request. */
    public AppendResult appendAsLeader(TopicPartition tp, Records records, short acks) {
        return appendAsLeader(tp, records, acks, AppendOrigin.CLIENT);
    }

    /**
     * Appends records for one partition as leader: a produce request's ({@link AppendOrigin#CLIENT},
     * held to a producer's rules) or a coordinator's ({@link AppendOrigin#COORDINATOR}, which may
     * write control batches). Nothing is appended when any batch is invalid (CORRUPT_MESSAGE,
     * INVALID_RECORD with the records at fault, MESSAGE_TOO_LARGE); an idempotent duplicate is
     * answered with its original offset. A topic whose {@code compression.type} names a codec gets its
     * batches recompressed to it first (Kafka's rule); {@code producer} stores the bytes as they came.
     */
    public AppendResult appendAsLeader(TopicPartition tp, Records records, short acks, AppendOrigin origin) {
        return appendAsLeader(tp, records, acks, origin, true);
    }

    /**
     * {@link #appendAsLeader(TopicPartition, Records, short, AppendOrigin)}; with {@code notify} false
     * the append listener is not told, and the caller must call {@link #appended} once it has answered
     * (when the result has no error).
     */
    public AppendResult appendAsLeader(TopicPartition tp, Records records, short acks, AppendOrigin origin,
                                       boolean notify) {
        Partition partition = partition(tp);
        if (partition == null) {
            return AppendResult.error(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host " + tp);
        }
        if (records == null || records.sizeInBytes() == 0) {
            return AppendResult.error(Errors.CORRUPT_MESSAGE, "Produce request for " + tp + " holds no record batches");
        }
        if (acks == -1 && partition.inSyncReplicaCount() < partition.minInsyncReplicas()) {
            return AppendResult.error(Errors.NOT_ENOUGH_REPLICAS, "The ISR of " + tp + " has "
                + partition.inSyncReplicaCount() + " replicas, fewer than min.insync.replicas "
                + partition.minInsyncReplicas());
        }
        LogAppendInfo info;
        try {
            // the request frame belongs to this request alone: offsets are assigned in it, in place
            info = partition.log().appendAsLeader(inTopicCodec(partition, records, origin), partition.leaderEpoch(),
                origin);
        } catch (CorruptRecordException e) {
            log.info("rejected corrupt produce to {}: {}", tp, e.getMessage());
            return AppendResult.error(Errors.CORRUPT_MESSAGE, e.getMessage());
        } catch (RecordTooLargeException e) {
            return AppendResult.error(Errors.MESSAGE_TOO_LARGE, e.getMessage());
        } catch (InvalidRecordException e) {
            log.debug("rejected invalid produce to {}: {}", tp, e.getMessage());
            return new AppendResult(Errors.INVALID_RECORD, e.getMessage(), -1, -1, -1, e.recordErrors());
        }
        ProducerAppendCheck check = info.producerCheck();
        switch (check.result()) {
            case OK:
                break;
            case DUPLICATE:
                return new AppendResult(Errors.NONE, null, check.firstOffset(), -1, partition.log().logStartOffset());
            case OUT_OF_ORDER_SEQUENCE:
                return AppendResult.error(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, check.message());
            case INVALID_PRODUCER_EPOCH:
                return AppendResult.error(Errors.INVALID_PRODUCER_EPOCH, check.message());
            case INVALID_TXN_STATE:
                return AppendResult.error(Errors.INVALID_TXN_STATE, check.message());
            case TRANSACTION_COORDINATOR_FENCED:
                return AppendResult.error(Errors.TRANSACTION_COORDINATOR_FENCED, check.message());
            default:
                return AppendResult.error(Errors.UNKNOWN_SERVER_ERROR, String.valueOf(check));
        }
        partition.maybeAdvanceHighWatermark();
        if (notify) {
            appendListener.accept(tp);
        }
        return new AppendResult(Errors.NONE, null, info.firstOffset(), info.logAppendTimeMs(),
            partition.log().logStartOffset());
    }

    /**
     * The request's records, recompressed when the topic stores a codec other than the producer's.
     * The producer's batches are validated first with the rules the log applies (so a bad batch fails
     * with the same error and record errors as without recompression, and only well-formed data is
     * decompressed); the log validates the rewritten batches again on append.
     */
    private static MemoryRecords inTopicCodec(Partition partition, Records records, AppendOrigin origin) {
        MemoryRecords in = MemoryRecords.readableRecords(records.buffer());
        TopicConfigs.Compression compression = partition.compression();
        if (compression.keepsProducerCodec()) {
            return in;
        }
        io.weir.log.LogConfig cfg = partition.log().config();
        BatchValidator.validate(in, new BatchValidator.Rules(origin, cfg.compact, cfg.maxMessageBytes),
            partition.topicPartition());
        return BatchRecompressor.recompress(in, compression.codec(), compression.level(),
            (int) BatchValidator.maxDecompressedBytes(in.sizeInBytes(), cfg.maxMessageBytes));
    }

    /**
     * What a fetch read from one partition. {@code fetchOffsetMetadata} is where the fetch offset sits
     * in the log (its position unknown when the read did not locate it); a delayed fetch measures the
     * bytes that arrive after it from there, without reading again.
     */
    public record ReadResult(Errors error, long highWatermark, long lastStableOffset, long logStartOffset,
                             Records records, List<AbortedTxn> abortedTransactions,
                             LogOffsetMetadata fetchOffsetMetadata) {
        public int sizeInBytes() {
            return records == null ? 0 : records.sizeInBytes();
        }
    }

    /**
     * Reads from a partition for a consumer: bounded by the high watermark, or by the last stable
     * offset under read_committed (then also returning the aborted transactions in range).
     */
    public ReadResult read(TopicPartition tp, long fetchOffset, int maxBytes, boolean minOneBatch,
                           boolean readCommitted) {
        Partition partition = partition(tp);
        if (partition == null) {
            return new ReadResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, -1, -1, -1, null, null,
                new LogOffsetMetadata(fetchOffset));
        }
        LogOffsetMetadata hwMetadata = partition.highWatermarkMetadata();
        long hw = hwMetadata.messageOffset();
        long lso = partition.lastStableOffset();
        Log l = partition.log();
        long upper = readCommitted ? lso : hw;
        try {
            // the high watermark carries its byte position; the LSO (an offset only, for now) is looked up
            FetchDataInfo info = readCommitted && lso < hw ? l.read(fetchOffset, maxBytes, lso, minOneBatch)
                : l.read(fetchOffset, maxBytes, hwMetadata, minOneBatch);
            List<AbortedTxn> aborted = null;
            if (readCommitted && info.records().sizeInBytes() > 0) {
                aborted = l.collectAbortedTransactions(fetchOffset, upper);
            }
            Records records = info.records().sizeInBytes() == 0 ? Records.empty()
                : new FileRegionRecords(info.records());
            return new ReadResult(Errors.NONE, hw, lso, l.logStartOffset(), records, aborted,
                info.fetchOffsetMetadata());
        } catch (OffsetOutOfRangeException e) {
            if (fetchOffset > hw && fetchOffset <= l.logEndOffset()) {
                // beyond what consumers may see yet but inside the log: nothing to return now
                return new ReadResult(Errors.NONE, hw, lso, l.logStartOffset(), Records.empty(), null,
                    new LogOffsetMetadata(fetchOffset));
            }
            return new ReadResult(Errors.OFFSET_OUT_OF_RANGE, hw, lso, l.logStartOffset(), null, null,
                new LogOffsetMetadata(fetchOffset));
        } catch (io.weir.common.record.CorruptRecordException e) {
            // a quarantined (damaged) stretch: a clear error for this partition, not a stalled consumer
            return new ReadResult(Errors.CORRUPT_MESSAGE, hw, lso, l.logStartOffset(), null, null,
                new LogOffsetMetadata(fetchOffset));
        }
    }

    /** The outcome of DeleteRecords on one partition: an error, or the log start offset after it. */
    public record DeleteRecordsResult(Errors error, String message, long lowWatermark) {
    }

    /**
     * Moves a partition's log start offset up to {@code offset} (-1: the high watermark) and deletes the
     * segments wholly below it (Kafka's DeleteRecords). The offset may not pass the high watermark, and a
     * compacted-only topic refuses (its cleaner owns what stays). The new start is checkpointed at once,
     * so it survives an unclean stop.
     */
    public DeleteRecordsResult deleteRecords(TopicPartition tp, long offset) {
        Partition partition = partitions.get(tp);
        if (partition == null) {
            return new DeleteRecordsResult(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host " + tp, -1);
        }
        Log l = partition.log();
        if (!l.config().delete) {
            return new DeleteRecordsResult(Errors.POLICY_VIOLATION, "Records of partition " + tp
                + " can not be deleted while partition is in compacted mode", -1);
        }
        long hw = partition.highWatermark();
        long target = offset == -1 ? hw : offset;
        if (target < 0 || target > hw) {
            return new DeleteRecordsResult(Errors.OFFSET_OUT_OF_RANGE, "Cannot increment the log start offset of " + tp
                + " to " + offset + ": it is outside [0, high watermark " + hw + "]", -1);
        }
        long before = l.logStartOffset();
        long start = l.deleteRecordsBefore(target);
        if (start != before) {
            logManager.doCheckpoint();
            log.info("{}: log start offset moved from {} to {} by DeleteRecords", tp, before, start);
        }
        return new DeleteRecordsResult(Errors.NONE, null, start);
    }

    /** Every hosted partition (a snapshot). */
    public java.util.Collection<Partition> partitions() {
        return List.copyOf(partitions.values());
    }

    public LogManager logManager() {
        return logManager;
    }
}
