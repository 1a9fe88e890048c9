package io.weir.producer;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.config.ConfigException;
import io.weir.common.record.Header;
import io.weir.producer.internals.BufferPool;
import io.weir.producer.internals.BuiltInPartitioner;
import io.weir.producer.internals.FutureRecordMetadata;
import io.weir.producer.internals.IdempotenceManager;
import io.weir.producer.internals.Murmur2;
import io.weir.producer.internals.RecordAccumulator;
import io.weir.producer.internals.Sender;
import io.weir.producer.internals.TopicRoutes;
import io.weir.producer.internals.TransactionManager;
import io.weir.consumer.ConsumerGroupMetadata;
import io.weir.consumer.OffsetAndMetadata;
import io.weir.protocol.Errors;
import io.weir.protocol.client.Cluster;
import io.weir.protocol.client.CommonClientConfigs;
import io.weir.protocol.client.Metadata;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.TimeoutException;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Weir's producer: Kafka's producer semantics on Weir's network layer.
 *
 * <p>{@link #send} serializes the record, picks its partition (explicit partition, else
 * {@code partitioner.class}, else murmur2 of the key, else the uniform sticky partitioner) and
 * appends it to that partition's open batch in the accumulator. One background I/O thread
 * ({@code weir-network-<client.id>}) sends ready batches — full, or older than {@code linger.ms} — to
 * each partition's leader, one Produce request per broker, compressing each batch once, and runs the
 * callbacks. Callbacks should be quick: the producer's connections wait while one runs. A callback may
 * call {@link #send} (to a topic whose metadata is known) and {@link #close}, which then closes without
 * waiting (as kafka-clients' {@code close(0)}); {@link #flush()} and the transactional calls, which wait
 * for that same thread, throw there instead of deadlocking. With idempotence (the default) every
 * batch carries a per-partition sequence, so retries after lost responses or cut connections are
 * written once and in order.
 *
 * <p>With a {@code transactional.id} the producer is transactional (Kafka's API): {@link #initTransactions()}
 * once, then {@link #beginTransaction()}, sends and {@link #sendOffsetsToTransaction}, and
 * {@link #commitTransaction()} or {@link #abortTransaction()}; read_committed consumers see a transaction's
 * records and offsets all or never. The lifecycle and the protocol (transactions V2 when the broker
 * finalizes {@code transaction.version} 2, V1 otherwise) live in
 * {@link io.weir.producer.internals.TransactionManager}; the transactional calls block up to
 * {@code max.block.ms}. Errors come in three kinds: retriable ones are retried inside (a
 * {@link TimeoutException} says the call may be repeated), {@link TransactionAbortableException} means
 * abort and go on, {@link ProducerFatalException} (fenced: {@link ProducerFencedException}) means close.
 *
 * <p>Thread-safe: share one producer between threads (transactional calls run one at a time).
 */
public final class WeirProducer<K, V> implements Producer<K, V> {
    private static final AtomicInteger CLIENT_IDS = new AtomicInteger(1);

    private final ProducerConfig config;
    private final String clientId;
    private final Time time;
    private final Serializer<K> keySerializer;
    private final Serializer<V> valueSerializer;
    private final Partitioner partitioner; // null: built-in
    private final BuiltInPartitioner stickyPartitioner;
    private final boolean ignoreKeys;
    private final long maxBlockMs;
    private final int maxRequestSize;
    private final long totalMemory;
    private final RecordAccumulator accumulator;
    private final NetworkClient client;
    private final Metadata metadata;
    private final Sender sender;
    private final TransactionManager transactionManager; // null without transactional.id
    private final Set<String> knownTopics = ConcurrentHashMap.newKeySet();
    /** Each topic's route and {@link TopicPartition}s (the sticky partitioner's too), remade on metadata changes. */
    private final TopicRoutes routes = new TopicRoutes();
    /** Wakes the sender when an append filled a batch or opened one (one instance: nothing allocated per send). */
    private final RecordAccumulator.AppendListener wakeSenderOnSendable =
        (tp, bytes, batchBecameFull, newBatchCreated) -> wakeSenderIfSendable(batchBecameFull, newBatchCreated);
    /** The same for a keyless record, whose append also tells the sticky partitioner where batches end. */
    private final RecordAccumulator.AppendListener wakeSenderAndMoveOn = this::keylessAppended;
    private volatile boolean closed;

    public WeirProducer(Map<String, ?> configs) {
        this(new ProducerConfig(configs), null, null, Time.SYSTEM);
    }

    public WeirProducer(Map<String, ?> configs, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        this(new ProducerConfig(configs), keySerializer, valueSerializer, Time.SYSTEM);
    }

    public WeirProducer(Properties props) {
        this(ProducerConfig.fromProperties(props), null, null, Time.SYSTEM);
    }

    public WeirProducer(Properties props, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        this(ProducerConfig.fromProperties(props), keySerializer, valueSerializer, Time.SYSTEM);
    }

    WeirProducer(ProducerConfig config, Serializer<K> keySerializer, Serializer<V> valueSerializer, Time time) {
        this.config = config;
        this.time = time;
        String id = config.getString(ProducerConfig.CLIENT_ID_CONFIG);
        this.clientId = id == null || id.isEmpty() ? "producer-" + CLIENT_IDS.getAndIncrement() : id;
        Map<String, Object> originals = config.originals();
        this.keySerializer = keySerializer != null ? keySerializer
            : newInstance(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, Serializer.class);
        this.valueSerializer = valueSerializer != null ? valueSerializer
            : newInstance(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, Serializer.class);
        if (keySerializer == null) {
            this.keySerializer.configure(originals, true);
        }
        if (valueSerializer == null) {
            this.valueSerializer.configure(originals, false);
        }
        if (config.getClass(ProducerConfig.PARTITIONER_CLASS_CONFIG) != null) {
            this.partitioner = newInstance(ProducerConfig.PARTITIONER_CLASS_CONFIG, Partitioner.class);
            this.partitioner.configure(originals);
        } else {
            this.partitioner = null;
        }
        this.ignoreKeys = config.getBoolean(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG);
        this.maxBlockMs = config.getLong(ProducerConfig.MAX_BLOCK_MS_CONFIG);
        this.maxRequestSize = config.getInt(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        this.totalMemory = config.getLong(ProducerConfig.BUFFER_MEMORY_CONFIG);
        int batchSize = config.getInt(ProducerConfig.BATCH_SIZE_CONFIG);
        int maxInFlight = config.getInt(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
        long retryBackoffMs = config.getLong(ProducerConfig.RETRY_BACKOFF_MS_CONFIG);
        this.accumulator = new RecordAccumulator(batchSize, config.compressionType(), config.compressionLevel(),
            config.getLong(ProducerConfig.LINGER_MS_CONFIG), retryBackoffMs, config.deliveryTimeoutMs(),
            new BufferPool(totalMemory, Math.max(1, batchSize), time));
        this.stickyPartitioner = new BuiltInPartitioner(batchSize,
            config.getBoolean(ProducerConfig.PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE_CONFIG), accumulator::queueSize,
            routes);
        NetworkClient.Settings base = CommonClientConfigs.networkSettings(config, maxInFlight);
        NetworkClient.Settings settings = new NetworkClient.Settings(base.bootstrapNodes(), clientId,
            base.requestTimeoutMs(), base.reconnectBackoffMs(), base.reconnectBackoffMaxMs(), base.retryBackoffMs(),
            base.retryBackoffMaxMs(), base.metadataMaxAgeMs(), base.connectionsMaxIdleMs(),
            base.connectionSetupTimeoutMs(), base.sendBufferBytes(), base.receiveBufferBytes(), maxInFlight,
            base.maxResponseBytes(), base.maxQueuedCalls());
        this.client = new NetworkClient(settings, time);
        client.allowAutoTopicCreation(true); // as Kafka's producer: a send to a missing topic creates it where the broker allows
        this.metadata = client.metadata();
        String transactionalId = config.transactionalId();
        this.transactionManager = transactionalId == null ? null : new TransactionManager(transactionalId,
            config.getInt(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), client, time, retryBackoffMs);
        this.sender = new Sender(client, accumulator, config.idempotenceEnabled()
            ? new IdempotenceManager(transactionalId != null) : null,
            time, config.acks(), config.getInt(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), maxRequestSize,
            config.getInt(ProducerConfig.RETRIES_CONFIG), maxInFlight, retryBackoffMs,
            config.getInt(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), transactionManager);
        if (transactionManager != null) {
            transactionManager.attach(sender.transactionHooks());
        }
        sender.start(); // on the network client's I/O thread: the producer has no thread of its own
    }

    @SuppressWarnings("unchecked")
    private <T> T newInstance(String key, Class<?> type) {
        Class<?> c = config.getClass(key);
        if (c == null) {
            throw new ConfigException("Missing required configuration " + key + " (pass it in the configs or to the"
                + " constructor)");
        }
        if (!type.isAssignableFrom(c)) {
            throw new ConfigException(key, c.getName(), "the class does not implement " + type.getName());
        }
        try {
            return (T) c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new ConfigException(key, c.getName(), "cannot instantiate it with a public no-argument constructor: "
                + e);
        }
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<K, V> record) {
        return send(record, null);
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<K, V> record, Callback callback) {
        if (closed) {
            throw new IllegalStateException("Cannot perform operation after producer has been closed");
        }
        RuntimeException fatal = sender.fatalError();
        if (fatal != null) {
            throw fatal;
        }
        if (transactionManager != null) {
            transactionManager.failIfNotReadyForSend();
        }
        long nowMs = time.milliseconds();
        long remainingBlockMs = maxBlockMs;
        // one map read per send while the metadata stays the same: the cluster, partition count and keys
        TopicRoutes.Route route = routes.get(record.topic());
        if (route == null || route.cluster() != metadata.cluster()
            || record.partition() != null && record.partition() >= route.partitionCount()) {
            long deadlineMs = nowMs + maxBlockMs;
            Cluster known = clusterIfKnown(record.topic(), record.partition());
            if (known == null) {
                known = waitOnMetadata(record.topic(), record.partition(), deadlineMs);
                remainingBlockMs = Math.max(0, deadlineMs - time.milliseconds());
            }
            route = routes.route(record.topic(), known);
        }
        Cluster cluster = route.cluster();
        byte[] keyBytes;
        byte[] valueBytes;
        try {
            keyBytes = keySerializer.serialize(record.topic(), record.key());
        } catch (ClassCastException e) {
            throw new IllegalArgumentException("Can't convert key of class " + record.key().getClass().getName()
                + " with the configured key.serializer", e);
        }
        try {
            valueBytes = valueSerializer.serialize(record.topic(), record.value());
        } catch (ClassCastException e) {
            throw new IllegalArgumentException("Can't convert value of class " + record.value().getClass().getName()
                + " with the configured value.serializer", e);
        }
        int numPartitions = route.partitionCount();
        boolean sticky = false;
        int partition;
        if (record.partition() != null) {
            partition = record.partition();
        } else if (partitioner != null) {
            partition = partitioner.partition(record.topic(), record.key(), keyBytes, record.value(), valueBytes, cluster);
            if (partition < 0 || partition >= numPartitions) {
                throw new IllegalArgumentException("The partitioner " + partitioner.getClass().getName()
                    + " returned partition " + partition + " for topic " + record.topic() + " with " + numPartitions
                    + " partitions");
            }
        } else if (keyBytes != null && !ignoreKeys) {
            partition = Murmur2.partitionForKey(keyBytes, numPartitions);
        } else {
            partition = stickyPartitioner.partition(record.topic(), cluster, numPartitions);
            sticky = true;
        }
        Header[] headers = record.headerArray();
        int size = estimateSize(keyBytes, valueBytes, headers);
        if (size > maxRequestSize) {
            throw Errors.MESSAGE_TOO_LARGE.exception("The record is " + size + " bytes when serialized, which is larger"
                + " than max.request.size (" + maxRequestSize + ")");
        }
        if (size > totalMemory) {
            throw Errors.MESSAGE_TOO_LARGE.exception("The record is " + size + " bytes when serialized, which is larger"
                + " than buffer.memory (" + totalMemory + ")");
        }
        TopicPartition tp = route.key(partition);
        if (transactionManager != null) {
            transactionManager.maybeAddPartition(tp);
        }
        long timestamp = record.timestamp() != null ? record.timestamp() : nowMs;
        FutureRecordMetadata future;
        try {
            // the clock is read again only if send() waited for metadata
            future = accumulator.append(tp, timestamp, keyBytes, valueBytes, headers, callback, remainingBlockMs, nowMs,
                sticky ? wakeSenderAndMoveOn : wakeSenderOnSendable);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for buffer memory", e);
        }
        return future;
    }

    private void keylessAppended(TopicPartition tp, int bytes, boolean batchBecameFull, boolean newBatchCreated) {
        wakeSenderIfSendable(batchBecameFull, newBatchCreated);
        stickyPartitioner.onAppend(tp, bytes, batchBecameFull, newBatchCreated);
    }

    /** Only when the append made something sendable: an append into a batch not yet full wakes nobody. */
    private void wakeSenderIfSendable(boolean batchBecameFull, boolean newBatchCreated) {
        if (batchBecameFull || newBatchCreated) {
            wakeSender();
        }
    }

    private void wakeSender() {
        sender.wakeup();
    }

    private static int estimateSize(byte[] key, byte[] value, Header[] headers) {
        int size = 61 + 21 + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) {
            size += 10 + h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }

    /**
     * The current cluster if it already has the topic (and the partition asked for), else null: a send's
     * fast path, without reading the clock.
     */
    private Cluster clusterIfKnown(String topic, Integer partition) {
        if (!knownTopics.contains(topic)) {
            return null;
        }
        Cluster cluster = metadata.cluster();
        int count = cluster.partitionsFor(topic).size();
        return count > 0 && (partition == null || partition < count) ? cluster : null;
    }

    /** Waits until the topic (and the partition asked for) is in the metadata, up to {@code deadlineMs}. */
    private Cluster waitOnMetadata(String topic, Integer partition, long deadlineMs) {
        if (knownTopics.add(topic)) {
            metadata.addTopics(List.of(topic));
        }
        while (true) {
            Cluster cluster = metadata.cluster();
            List<Cluster.PartitionInfo> parts = cluster.partitionsFor(topic);
            if (!parts.isEmpty() && (partition == null || partition < parts.size())) {
                return cluster;
            }
            Errors topicError = cluster.topicError(topic);
            if (topicError == Errors.INVALID_TOPIC_EXCEPTION || topicError == Errors.TOPIC_AUTHORIZATION_FAILED) {
                throw topicError.exception("Topic " + topic + ": " + topicError.message());
            }
            if (client.inIoThread()) {
                // a callback: the metadata could only come from this very thread, which would wait for itself
                throw new TimeoutException("Topic " + topic + (partition == null ? "" : " partition " + partition)
                    + " is not in the producer's metadata, which a call from a producer callback (the producer's"
                    + " I/O thread) cannot wait for");
            }
            long nowMs = time.milliseconds();
            long remainingMs = deadlineMs - nowMs;
            if (remainingMs <= 0) {
                if (!parts.isEmpty()) {
                    throw new TimeoutException("Partition " + partition + " of topic " + topic + " with partition count "
                        + parts.size() + " is not present in metadata after " + maxBlockMs + " ms (max.block.ms).");
                }
                throw new TimeoutException("Topic " + topic + " not present in metadata after " + maxBlockMs
                    + " ms (max.block.ms)" + (topicError == Errors.NONE ? ": no broker answered"
                    : ": the broker says " + topicError));
            }
            try {
                client.refreshMetadata(deadlineMs).get(remainingMs, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                // checked again at the top: the deadline decides
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for metadata of " + topic, e);
            }
        }
    }

    // ------------------------------------------------------------------ transactions

    private TransactionManager transactions() {
        if (closed) {
            throw new IllegalStateException("Cannot perform operation after producer has been closed");
        }
        if (transactionManager == null) {
            throw new IllegalStateException("Cannot use transactional methods without enabling transactions by "
                + "setting the " + ProducerConfig.TRANSACTIONAL_ID_CONFIG + " configuration property");
        }
        return transactionManager;
    }

    /** The transaction manager for a call that waits for the broker, which a callback (on the I/O thread) cannot. */
    private TransactionManager blockingTransactions(String operation) {
        TransactionManager tm = transactions();
        if (client.inIoThread()) {
            throw new IllegalStateException(operation + "() cannot be called from a producer callback (the producer's"
                + " I/O thread): it waits for answers that only this thread can receive");
        }
        return tm;
    }

    @Override
    public void initTransactions() {
        blockingTransactions("initTransactions").initTransactions(maxBlockMs);
    }

    @Override
    public void beginTransaction() {
        transactions().beginTransaction();
    }

    @Override
    public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                         ConsumerGroupMetadata groupMetadata) {
        if (groupMetadata == null) {
            throw new IllegalArgumentException("Consumer group metadata could not be null");
        }
        blockingTransactions("sendOffsetsToTransaction").sendOffsetsToTransaction(offsets, groupMetadata, maxBlockMs);
    }

    @Override
    public void commitTransaction() {
        blockingTransactions("commitTransaction").commitTransaction(maxBlockMs);
    }

    @Override
    public void abortTransaction() {
        blockingTransactions("abortTransaction").abortTransaction(maxBlockMs);
    }

    /** The transaction manager's state, for tests; null for a producer without transactional.id. */
    TransactionManager.State transactionState() {
        return transactionManager == null ? null : transactionManager.state();
    }

    /** Whether the transactions run as V2 (decided by initTransactions from the broker's features); for tests. */
    boolean usesTransactionsV2() {
        return transactionManager != null && transactionManager.isTransactionV2();
    }

    @Override
    public void flush() {
        if (client.inIoThread()) {
            throw Sender.flushFromCallback();
        }
        accumulator.beginFlush();
        sender.wakeup();
        try {
            accumulator.awaitFlushCompletion();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Flush interrupted", e);
        }
    }

    @Override
    public List<Cluster.PartitionInfo> partitionsFor(String topic) {
        if (closed) {
            throw new IllegalStateException("Cannot perform operation after producer has been closed");
        }
        return waitOnMetadata(topic, null, time.milliseconds() + maxBlockMs).partitionsFor(topic);
    }

    @Override
    public Map<String, Double> metrics() {
        Sender.Metrics m = sender.metrics();
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("record-send-total", m.recordsSent.doubleValue());
        out.put("record-error-total", m.recordErrors.doubleValue());
        out.put("record-retry-total", m.recordRetries.doubleValue());
        out.put("batch-total", m.batchesSent.doubleValue());
        out.put("outgoing-byte-total", m.bytesSent.doubleValue());
        out.put("request-total", m.requests.doubleValue());
        double batches = m.batchesSent.doubleValue();
        out.put("batch-size-avg", batches == 0 ? 0 : m.bytesSent.doubleValue() / batches);
        out.put("buffer-total-bytes", (double) totalMemory);
        out.put("buffer-available-bytes", (double) accumulator.pool().availableBytes());
        out.put("producer-id", (double) sender.producerId());
        out.put("producer-id-resets-total", m.producerIdResets.doubleValue());
        return out;
    }

    @Override
    public void close() {
        close(Duration.ofMillis(Long.MAX_VALUE));
    }

    @Override
    public void close(Duration timeout) {
        long timeoutMs = Math.max(0, timeout.toMillis());
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        accumulator.close();
        if (client.inIoThread()) {
            // close() from a callback: the loop cannot be waited for on its own thread; as kafka-clients, close
            // without waiting. The client's loop stops once this callback returns and tells the sender
            // (Sender.onClientClosed), which then fails what is left, even inside its own iteration
            sender.forceClose();
        } else {
            if (timeoutMs > 0) {
                sender.initiateClose();
                awaitSender(timeoutMs);
            }
            if (!sender.isTerminated()) {
                sender.forceClose();
                awaitSender(Long.MAX_VALUE);
            }
        }
        accumulator.pool().close();
        client.close(0);
        closeQuietly(keySerializer);
        closeQuietly(valueSerializer);
        closeQuietly(partitioner);
    }

    /**
     * Waits up to {@code ms} for the sending loop to end; gives up early if the I/O thread it runs on is gone
     * (the client then failed what was left through {@link Sender#onClientClosed}) or the caller is
     * interrupted (the interrupt stays set; the client's close below still makes the loop fail what is left).
     */
    private void awaitSender(long ms) {
        long deadlineNs = ms == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        try {
            while (!sender.isTerminated() && client.isAlive()) {
                long leftMs = deadlineNs == Long.MAX_VALUE ? Long.MAX_VALUE
                    : TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
                if (leftMs <= 0) {
                    return;
                }
                sender.awaitTermination(Math.min(leftMs, 100)); // a bounded slice: the thread may die meanwhile
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // closing is best effort
        }
    }

    /** The client id, given or generated. */
    public String clientId() {
        return clientId;
    }

    static Map<String, Object> toMap(Properties p) {
        Map<String, Object> m = new HashMap<>();
        p.forEach((k, v) -> m.put(String.valueOf(k), v));
        return m;
    }
}
