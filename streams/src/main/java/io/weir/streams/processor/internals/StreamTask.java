package io.weir.streams.processor.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.config.ConfigException;
import io.weir.common.record.Header;
import io.weir.common.record.TimestampType;
import io.weir.consumer.ConsumerRecord;
import io.weir.consumer.errors.RecordDeserializationException;
import io.weir.streams.StreamsConfig;
import io.weir.streams.errors.DeserializationExceptionHandler;
import io.weir.streams.errors.ErrorHandlerContext;
import io.weir.streams.errors.ProcessingExceptionHandler;
import io.weir.streams.errors.ProductionExceptionHandler;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.Cancellable;
import io.weir.streams.processor.PunctuationType;
import io.weir.streams.processor.Punctuator;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.StateStoreContext;
import io.weir.streams.processor.TaskId;
import io.weir.streams.processor.TimestampExtractor;
import io.weir.streams.processor.api.Record;
import io.weir.streams.serialization.Serde;
import io.weir.streams.state.ChangelogSink;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One task: runs records of its input partitions through its {@link ProcessorTopology}, keeps stream
 * time, fires punctuations, and commits or aborts its stores. The same class serves the stream thread
 * and the {@code TopologyTestDriver}, so tests exercise the code jobs run.
 *
 * <p>Commit protocol (DESIGN.md, "Exactly-once"): the caller commits the broker transaction holding
 * the task's output, changelog records and {@link #consumedOffsets()}, and only then calls
 * {@link #commitStores}; if the transaction aborts it calls {@link #abortStores}.
 *
 * <p>Not thread-safe: one stream thread owns a task.
 */
public final class StreamTask {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StreamTask.class);
    private final TaskId id;
    private final String applicationId;
    private final ProcessorTopology topology;
    private final Map<String, Object> configs;
    private final RecordCollector collector;
    private final Path stateDir;
    private final Time time;
    private final Map<String, StateStore> openStores = new LinkedHashMap<>();
    private final Map<String, StateStore> globalStores;
    private final List<TransactionalStateStore> transactionalStores = new ArrayList<>();
    private final Map<TopicPartition, Long> consumedOffsets = new HashMap<>();
    private final Map<TopicPartition, Long> partitionTimes = new HashMap<>();
    private final List<Schedule> streamTimeSchedules = new ArrayList<>();
    private final List<Schedule> wallClockSchedules = new ArrayList<>();
    private Serde<?> defaultKeySerde;
    private Serde<?> defaultValueSerde;
    private ProcessorRecordContext recordContext;
    private long streamTimeMs = -1;
    private long committedStreamTimeMs = -1;
    private Map<TopicPartition, Long> committedPartitionTimes = Map.of();
    private Map<TopicPartition, Long> committedConsumedOffsets = Map.of();
    private boolean commitRequested;
    private boolean initialized;
    private final DeserializationExceptionHandler deserializationHandler;
    private long droppedRecords;
    /** The input record being processed, with its raw bytes: what an error handler's dead-letter record carries. */
    private ProcessorRecordContext sourceContext;
    private byte[] sourceRawKey;
    private byte[] sourceRawValue;
    private final ProcessingExceptionHandler processingHandler;
    private final ProductionExceptionHandler productionHandler;
    /** Where the thread sums its tasks' dropped records (they outlive the task), or null. */
    private java.util.concurrent.atomic.LongAdder droppedRecordsSink;
    /** The thread's record cache for this task's caching stores; null: every store writes through. */
    private final ThreadCache cache;

    public StreamTask(TaskId id, String applicationId, ProcessorTopology topology, Map<String, Object> configs,
                      RecordCollector collector, Path stateDir, Time time) {
        this(id, applicationId, topology, configs, collector, stateDir, time, Map.of());
    }

    /** A task whose processors may also read the given global stores (opened by the global task). */
    public StreamTask(TaskId id, String applicationId, ProcessorTopology topology, Map<String, Object> configs,
                      RecordCollector collector, Path stateDir, Time time, Map<String, StateStore> globalStores) {
        this(id, applicationId, topology, configs, collector, stateDir, time, globalStores, null);
    }

    /**
     * A task whose caching stores keep their writes in {@code cache} (the thread's) until {@link #flushCaches};
     * null: every store writes through.
     */
    public StreamTask(TaskId id, String applicationId, ProcessorTopology topology, Map<String, Object> configs,
                      RecordCollector collector, Path stateDir, Time time, Map<String, StateStore> globalStores,
                      ThreadCache cache) {
        this.cache = cache;
        this.globalStores = Map.copyOf(globalStores);
        this.id = id;
        this.applicationId = applicationId;
        this.topology = topology;
        this.configs = configs;
        this.collector = collector;
        this.stateDir = stateDir;
        this.time = time;
        this.deserializationHandler = StreamsConfig.deserializationExceptionHandler(configs);
        this.processingHandler = StreamsConfig.processingExceptionHandler(configs);
        this.productionHandler = StreamsConfig.productionExceptionHandler(configs);
    }

    /**
     * Opens the stores, then initializes every node (processors may schedule and read stores here). For a
     * task whose stores restore from changelogs first, call {@link #initializeStores()}, restore, then
     * {@link #initializeProcessors()}: a processor's {@code init} must see the restored state.
     */
    public void initialize() {
        initializeStores();
        initializeProcessors();
    }

    /** Opens and registers the stores (restoration may start after this); processors are not initialized yet. */
    public void initializeStores() {
        StateStoreContext storeContext = new StoreContext();
        for (StateStore store : topology.stores().values()) {
            store.init(storeContext);
            openStores.put(store.name(), store);
        }
    }

    /** Initializes every node, after the stores are open and restored; the task can then process. */
    public void initializeProcessors() {
        if (initialized) {
            return;
        }
        initialized = true;   // set first: close() then closes the nodes a failed init left half initialized
        for (ProcessorNode node : topology.nodes()) {
            try {
                node.init(this);
            } catch (StreamsException | ConfigException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new StreamsException("task " + id + ": initializing node " + node.name() + " failed", e);
            }
        }
    }

    /** Whether the processors are initialized (the task's stores are restored and it may process). */
    public boolean processorsInitialized() {
        return initialized;
    }

    /**
     * Processes one input record: deserializes it in its source node and runs it through the graph.
     * A record that cannot be deserialized goes to the deserialization exception handler (whose answer may
     * carry dead-letter records, sent first); if the handler fails, so does the task, naming the record's
     * topic, partition and offset.
     */
    public void process(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value,
                        List<Header> headers) {
        if (!initialized) {
            throw new IllegalStateException("task " + id + " is not initialized");
        }
        SourceNode source = topology.sourcesByTopic().get(topic);
        if (source == null) {
            throw new StreamsException("task " + id + " has no source for topic " + topic);
        }
        TopicPartition tp = new TopicPartition(topic, partition);
        Header[] headerArray = headers.toArray(new Header[0]);
        Object k;
        Object v;
        try {
            k = source.deserializeKey(topic, headerArray, key);
            v = source.deserializeValue(topic, headerArray, value);
        } catch (RuntimeException e) {
            if (handleDeserializationFailure(source, tp, offset, timestamp, key, value, headers, e)) {
                consumedOffsets.put(tp, offset + 1);
                recordDropped();
                return;
            }
            String where = "topic " + topic + ", partition " + partition + ", offset " + offset;
            throw new StreamsException("task " + id + ": deserialization of the record at " + where + " failed in source "
                + source.name() + " and the deserialization exception handler chose to fail",
                new RecordDeserializationException(tp, offset, "cannot deserialize the record at " + where, e));
        }
        long partitionTime = partitionTimes.getOrDefault(tp, -1L);
        long eventTime;
        try {
            eventTime = source.timestamp(topic, k, v, timestamp, partitionTime);
        } catch (StreamsException e) {
            throw new StreamsException("task " + id + ": the record at topic " + topic + ", partition " + partition
                + ", offset " + offset + ": " + e.getMessage(), e);
        }
        if (eventTime < 0) {
            // the extractor chose to skip it (LogAndSkipOnInvalidTimestamp)
            consumedOffsets.put(tp, offset + 1);
            recordDropped();
            return;
        }
        partitionTimes.put(tp, Math.max(partitionTime, eventTime));
        streamTimeMs = Math.max(streamTimeMs, eventTime);
        recordContext = new ProcessorRecordContext(topic, partition, offset, eventTime, headers);
        sourceContext = recordContext;
        sourceRawKey = key;
        sourceRawValue = value;
        try {
            source.process(new Record<>(k, v, eventTime, headers));
        } catch (StreamsException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StreamsException("task " + id + ": processing the record at topic " + topic + ", partition "
                + partition + ", offset " + offset + " failed", e);
        } finally {
            recordContext = null;
            sourceContext = null;
            sourceRawKey = null;
            sourceRawValue = null;
        }
        consumedOffsets.put(tp, offset + 1);
    }

    /**
     * Asks the deserialization handler, then sends the dead-letter records its answer carries; true if processing
     * goes on without the record.
     */
    private boolean handleDeserializationFailure(SourceNode source, TopicPartition tp, long offset, long timestamp, byte[] key,
                                                 byte[] value, List<Header> headers, RuntimeException error) {
        ConsumerRecord<byte[], byte[]> raw = new ConsumerRecord<>(tp.topic(), tp.partition(), offset, timestamp,
            TimestampType.CREATE_TIME, key == null ? -1 : key.length, value == null ? -1 : value.length, key, value,
            headers.toArray(new Header[0]), Optional.empty());
        ErrorHandlerContext context = new ErrorHandlerContext(id, tp.topic(), tp.partition(), offset, source.name(), timestamp,
            headers, key, value);
        DeserializationExceptionHandler.Response response;
        try {
            response = deserializationHandler.handleError(context, raw, error);
        } catch (RuntimeException e) {
            throw new StreamsException("task " + id + ": the deserialization exception handler failed on the record at topic "
                + tp.topic() + ", partition " + tp.partition() + ", offset " + offset, e);
        }
        if (response == null) {
            return false;
        }
        sendDeadLetters(response.deadLetterQueueRecords(), tp.topic(), timestamp);
        return response.result() == DeserializationExceptionHandler.Result.RESUME;
    }

    /**
     * Sends the dead-letter records a handler's answer carries through the task's collector (under exactly-once:
     * into the open transaction, with the task's output). A record for the topic whose send failed is left out, so a
     * failing dead-letter topic never feeds itself.
     */
    private void sendDeadLetters(List<io.weir.producer.ProducerRecord<byte[], byte[]>> records, String failedTopic,
                                 long defaultTimestamp) {
        for (io.weir.producer.ProducerRecord<byte[], byte[]> r : records) {
            if (r.topic().equals(failedTopic)) {
                log.warn("Task {}: not sending a dead-letter record to {}: sending"
                    + " to that topic is what failed", id, failedTopic);
                continue;
            }
            long ts = r.timestamp() != null ? r.timestamp() : Math.max(defaultTimestamp, 0);
            try {
                collector.send(r.topic(), r.partition(), ts, r.key(), r.value(), r.headers());
            } catch (StreamsException | io.weir.producer.ProducerFatalException | io.weir.producer.TransactionAbortableException
                     | io.weir.consumer.errors.WakeupException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new StreamsException("task " + id + ": sending a dead-letter record to topic " + r.topic() + " failed", e);
            }
        }
    }

    /**
     * The error handlers' view of the record being processed: its position, timestamp and headers, and (only while
     * the task's own input record is the one in context, not a punctuation's or a cache flush's) its raw bytes.
     */
    ErrorHandlerContext errorContext(String nodeName) {
        ProcessorRecordContext c = recordContext;
        if (c == null) {
            return new ErrorHandlerContext(id, null, -1, -1, nodeName);
        }
        boolean input = c == sourceContext;
        return new ErrorHandlerContext(id, c.topic(), c.partition(), c.offset(), nodeName, c.timestamp(), c.headers(),
            input ? sourceRawKey : null, input ? sourceRawValue : null);
    }

    /** Counts one dropped record here and in the thread's total. */
    void recordDropped() {
        droppedRecords++;
        if (droppedRecordsSink != null) {
            droppedRecordsSink.increment();
        }
    }

    /** Also counts this task's dropped records in {@code sink} (the stream thread's total, which outlives tasks). */
    public void countDroppedRecordsIn(java.util.concurrent.atomic.LongAdder sink) {
        this.droppedRecordsSink = sink;
    }

    /**
     * A processor node threw {@code error} on {@code record}: asks the processing exception handler. Returns
     * normally when the handler drops the record (counted); throws a {@link StreamsException} naming the node and
     * the input record's position when it fails. Errors of the runtime itself (fenced producer, stores, errors
     * already decided by a handler) are rethrown untouched.
     */
    void onProcessingException(ProcessorNode node, Record<?, ?> record, RuntimeException error) {
        if (error instanceof StreamsException || error instanceof io.weir.producer.ProducerFatalException
            || error instanceof io.weir.producer.TransactionAbortableException
            || error instanceof io.weir.streams.state.internals.StateStoreException
            || error instanceof io.weir.consumer.errors.WakeupException) {
            throw error;
        }
        ErrorHandlerContext context = errorContext(node.name());
        ProcessingExceptionHandler.Response response;
        try {
            response = processingHandler.handleError(context, record, error);
        } catch (RuntimeException e) {
            throw new StreamsException("task " + id + ": the processing exception handler failed on an error of processor "
                + node.name(), e);
        }
        if (response != null) {
            sendDeadLetters(response.deadLetterQueueRecords(), null, context.timestamp());
            if (response.result() == ProcessingExceptionHandler.Result.RESUME) {
                recordDropped();
                return;
            }
        }
        throw new StreamsException("task " + id + ": processor " + node.name() + " failed on the record at topic "
            + context.topic() + ", partition " + context.partition() + ", offset " + context.offset()
            + " and the processing exception handler chose to fail", error);
    }

    /**
     * A sink could not serialize ({@code serializationOrigin} set) or send a record: asks the production exception
     * handler and sends the dead-letter records its answer carries. Returns what the sink does: RESUME (the record
     * is dropped, counted here), FAIL, or RETRY (only for a retriable send error: the thread restarts the tasks from
     * their last commit).
     */
    ProductionExceptionHandler.Result onProductionError(ProcessorNode sink, io.weir.producer.ProducerRecord<?, ?> record,
                                                       Exception error,
                                                       ProductionExceptionHandler.SerializationExceptionOrigin serializationOrigin) {
        ErrorHandlerContext context = errorContext(sink.name());
        ProductionExceptionHandler.Response response;
        try {
            if (serializationOrigin != null) {
                response = productionHandler.handleSerializationError(context, record, error, serializationOrigin);
            } else {
                @SuppressWarnings("unchecked")
                io.weir.producer.ProducerRecord<byte[], byte[]> raw = (io.weir.producer.ProducerRecord<byte[], byte[]>) record;
                response = productionHandler.handleError(context, raw, error);
            }
        } catch (RuntimeException e) {
            throw new StreamsException("task " + id + ": the production exception handler failed on a record for topic "
                + record.topic(), e);
        }
        // RETRY holds only for a retriable send error: a serializer fails the same way every time
        ProductionExceptionHandler.Result result = ProductionErrors.effective(response, error);
        if (response != null) {
            sendDeadLetters(response.deadLetterQueueRecords(), record.topic(), context.timestamp());
        }
        if (result == ProductionExceptionHandler.Result.RESUME) {
            recordDropped();
        }
        return result;
    }

    /** Input records skipped so far (undeserializable ones a handler continued past, invalid timestamps skipped). */
    public long droppedRecords() {
        return droppedRecords;
    }

    /** Fires the stream-time punctuations that are due; returns whether any fired. */
    public boolean maybePunctuateStreamTime() {
        return streamTimeMs >= 0 && punctuate(streamTimeSchedules, streamTimeMs);
    }

    /** Fires the wall-clock punctuations that are due; returns whether any fired. */
    public boolean maybePunctuateSystemTime() {
        return punctuate(wallClockSchedules, time.milliseconds());
    }

    private boolean punctuate(List<Schedule> schedules, long nowMs) {
        boolean fired = false;
        for (Schedule s : List.copyOf(schedules)) {
            if (s.cancelled || nowMs < s.nextMs) {
                continue;
            }
            // fire once however far time jumped, then realign to the schedule's grid past now
            s.nextMs = s.startMs + ((nowMs - s.startMs) / s.intervalMs + 1) * s.intervalMs;
            recordContext = ProcessorRecordContext.punctuation(nowMs);
            try {
                s.punctuator.punctuate(nowMs);
            } catch (StreamsException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new StreamsException("task " + id + ": a punctuation of node " + s.node.name() + " failed", e);
            } finally {
                recordContext = null;
            }
            fired = true;
        }
        schedules.removeIf(s -> s.cancelled);
        return fired;
    }

    Cancellable schedule(ProcessorNode node, Duration interval, PunctuationType type, Punctuator punctuator) {
        long intervalMs = interval.toMillis();
        if (intervalMs < 1) {
            throw new IllegalArgumentException("the punctuation interval must be at least 1 ms, got " + interval);
        }
        Schedule s;
        if (type == PunctuationType.STREAM_TIME) {
            // first fires at the first record processed, then on multiples of the interval
            s = new Schedule(node, intervalMs, punctuator, 0, 0);
            streamTimeSchedules.add(s);
        } else {
            long now = time.milliseconds();
            s = new Schedule(node, intervalMs, punctuator, now, now + intervalMs);
            wallClockSchedules.add(s);
        }
        return () -> s.cancelled = true;
    }

    /** The next offset to consume of each input partition processed so far: what the commit stores. */
    public Map<TopicPartition, Long> consumedOffsets() {
        return Map.copyOf(consumedOffsets);
    }

    /**
     * Hands every cached store write on to its store, changelog and downstream nodes (which may send
     * output and write further stores, flushed in turn). Call before the transaction commits, so that the
     * output, the changelog records and the input offsets it carries stay one atomic unit; a processing
     * failure downstream fails like one while processing a record.
     */
    public void flushCaches() {
        boolean flushed = true;
        for (int round = 0; flushed; round++) {
            if (round > topology.stores().size() + 1) {
                throw new IllegalStateException("task " + id + ": flushing the record caches does not settle: stores keep"
                    + " writing each other");
            }
            flushed = false;
            for (TransactionalStateStore store : transactionalStores) {
                try {
                    flushed |= store.flushCache();
                } catch (StreamsException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new StreamsException("task " + id + ": flushing the record cache of store " + store.name() + " failed", e);
                }
            }
        }
    }

    /** Whether some store holds writes in the record cache (they must be flushed before a commit). */
    public boolean hasCachedWrites() {
        for (TransactionalStateStore store : transactionalStores) {
            if (store.hasCachedWrites()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Applies every store's uncommitted writes with the input offsets (plus {@code changelogOffsets}, the
     * changelog end offsets the broker acknowledged). Call only after the broker transaction committed.
     */
    public void commitStores(Map<TopicPartition, Long> changelogOffsets) {
        Map<TopicPartition, Long> offsets = new HashMap<>(consumedOffsets);
        offsets.putAll(changelogOffsets);
        for (TransactionalStateStore store : transactionalStores) {
            store.commit(offsets);
        }
        commitRequested = false;
        committedStreamTimeMs = streamTimeMs;
        committedPartitionTimes = Map.copyOf(partitionTimes);
        committedConsumedOffsets = Map.copyOf(consumedOffsets);
    }

    /**
     * Discards every store's uncommitted writes (the transaction aborted) and moves stream time and the
     * consumed positions back to the last commit, so the task is as it was then.
     */
    public void abortStores() {
        for (TransactionalStateStore store : transactionalStores) {
            store.abort();
        }
        streamTimeMs = committedStreamTimeMs;
        partitionTimes.clear();
        partitionTimes.putAll(committedPartitionTimes);
        consumedOffsets.clear();
        consumedOffsets.putAll(committedConsumedOffsets);
    }

    /** Bytes of uncommitted store writes (drives {@code statestore.uncommitted.max.bytes}). */
    public long uncommittedBytes() {
        long sum = 0;
        for (TransactionalStateStore store : transactionalStores) {
            sum += store.uncommittedBytes();
        }
        return sum;
    }

    public boolean commitRequested() {
        return commitRequested;
    }

    /** Closes processors, then stores (uncommitted writes are discarded). */
    public void close() {
        RuntimeException first = null;
        for (ProcessorNode node : initialized ? topology.nodes() : List.<ProcessorNode>of()) {
            try {
                node.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        for (StateStore store : openStores.values()) {
            try {
                store.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        openStores.clear();
        transactionalStores.clear();
        if (first != null) {
            throw new StreamsException("task " + id + ": closing failed", first);
        }
    }

    public TaskId id() {
        return id;
    }

    public String applicationId() {
        return applicationId;
    }

    public java.util.Set<String> sourceTopics() {
        return topology.sourceTopics();
    }

    public StateStore store(String name) {
        return openStores.get(name);
    }

    /** A global store by name, or null. */
    StateStore globalStore(String name) {
        return globalStores.get(name);
    }

    public Map<String, StateStore> stores() {
        return Map.copyOf(openStores);
    }

    public long streamTimeMs() {
        return streamTimeMs;
    }

    long wallClockMs() {
        return time.milliseconds();
    }

    void requestCommit() {
        commitRequested = true;
    }

    ProcessorRecordContext recordContext() {
        return recordContext;
    }

    RecordCollector collector() {
        return collector;
    }

    Path stateDir() {
        return stateDir;
    }

    Map<String, Object> configs() {
        return configs;
    }

    TimestampExtractor defaultTimestampExtractor() {
        return StreamsConfig.timestampExtractor(configs);
    }

    Serde<?> defaultKeySerde() {
        if (defaultKeySerde == null) {
            defaultKeySerde = requireSerde(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, true);
        }
        return defaultKeySerde;
    }

    Serde<?> defaultValueSerde() {
        if (defaultValueSerde == null) {
            defaultValueSerde = requireSerde(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, false);
        }
        return defaultValueSerde;
    }

    private Serde<?> requireSerde(String key, boolean isKey) {
        Serde<?> serde = StreamsConfig.serde(configs, key, isKey);
        if (serde == null) {
            throw new ConfigException(key, null, "is not set, and a node or store of the topology has no serde of its own"
                + " (give one through Consumed/Produced/Grouped/Materialized or set the default)");
        }
        return serde;
    }

    private final class StoreContext implements InternalStoreContext {
        @Override
        public ThreadCache cache() {
            return cache;
        }

        @Override
        public ProcessorRecordContext recordContext() {
            return recordContext != null ? recordContext : ProcessorRecordContext.punctuation(Math.max(streamTimeMs, 0));
        }

        @Override
        public void runInContext(ProcessorRecordContext context, Runnable action) {
            ProcessorRecordContext saved = recordContext;
            recordContext = context;
            try {
                action.run();
            } finally {
                recordContext = saved;
            }
        }

        @Override
        public String applicationId() {
            return applicationId;
        }

        @Override
        public TaskId taskId() {
            return id;
        }

        @Override
        public Path stateDir() {
            return stateDir;
        }

        @Override
        public Map<String, Object> appConfigs() {
            return configs;
        }

        @Override
        public Serde<?> keySerde() {
            return defaultKeySerde();
        }

        @Override
        public Serde<?> valueSerde() {
            return defaultValueSerde();
        }

        @Override
        public void register(StateStore store) {
            if (store instanceof TransactionalStateStore t) {
                transactionalStores.add(t);
            }
        }

        @Override
        public ChangelogSink changelogSink(String storeName) {
            String topic = ProcessorStateNames.changelogTopic(applicationId, storeName);
            return (key, value) -> {
                long ts = recordContext != null ? recordContext.timestamp() : Math.max(streamTimeMs, 0);
                collector.send(topic, id.partition(), ts, key, value, List.of());
            };
        }
    }

    private static final class Schedule {
        final ProcessorNode node;
        final long intervalMs;
        final Punctuator punctuator;
        final long startMs;
        long nextMs;
        boolean cancelled;

        Schedule(ProcessorNode node, long intervalMs, Punctuator punctuator, long startMs, long nextMs) {
            this.node = node;
            this.intervalMs = intervalMs;
            this.punctuator = punctuator;
            this.startMs = startMs;
            this.nextMs = nextMs;
        }
    }
}
