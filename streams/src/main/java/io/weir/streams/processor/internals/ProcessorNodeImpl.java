package io.weir.streams.processor.internals;

import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.Cancellable;
import io.weir.streams.processor.PunctuationType;
import io.weir.streams.processor.Punctuator;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import io.weir.streams.processor.api.Processor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.processor.api.RecordMetadata;
import io.weir.streams.serialization.Serde;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A user's (or the DSL's) {@link Processor} in the graph, with a context bound to this node. */
final class ProcessorNodeImpl extends ProcessorNode {
    private final Processor<Object, Object, Object, Object> processor;
    private final Set<String> storeNames;
    private StreamTask task;

    @SuppressWarnings("unchecked")
    ProcessorNodeImpl(String name, Processor<?, ?, ?, ?> processor, Set<String> storeNames) {
        super(name);
        this.processor = (Processor<Object, Object, Object, Object>) processor;
        this.storeNames = storeNames;
    }

    @Override
    void init(StreamTask task) {
        this.task = task;
        processor.init(new NodeContext(task));
    }

    @Override
    void process(Record<Object, Object> record) {
        try {
            processor.process(record);
        } catch (RuntimeException e) {
            // the innermost failing node answers; a CONTINUE returns to the parent's forward, which goes on
            task.onProcessingException(this, record, e);
        }
    }

    @Override
    void close() {
        processor.close();
    }

    /** The context of this node: forwards go to this node's children. */
    private final class NodeContext implements ProcessorContext<Object, Object> {
        private final StreamTask task;

        NodeContext(StreamTask task) {
            this.task = task;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <K, V> void forward(Record<K, V> record) {
            ProcessorNodeImpl.this.forward((Record<Object, Object>) record);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <K, V> void forward(Record<K, V> record, String childName) {
            ProcessorNodeImpl.this.forward((Record<Object, Object>) record, childName);
        }

        @Override
        public String applicationId() {
            return task.applicationId();
        }

        @Override
        public TaskId taskId() {
            return task.id();
        }

        @Override
        public Optional<RecordMetadata> recordMetadata() {
            ProcessorRecordContext c = task.recordContext();
            return c == null || c.topic() == null ? Optional.empty() : Optional.of(c);
        }

        @Override
        public Serde<?> keySerde() {
            return task.defaultKeySerde();
        }

        @Override
        public Serde<?> valueSerde() {
            return task.defaultValueSerde();
        }

        @Override
        public Path stateDir() {
            return task.stateDir();
        }

        @Override
        public Map<String, Object> appConfigs() {
            return task.configs();
        }

        @Override
        @SuppressWarnings("unchecked")
        public <S extends StateStore> S getStateStore(String storeName) {
            if (!storeNames.contains(storeName)) {
                StateStore global = task.globalStore(storeName);
                if (global != null) {
                    return (S) global;
                }
                throw new StreamsException("processor " + name() + " has no access to store " + storeName
                    + ": connect them (addProcessor/process with the store name, or connectProcessorAndStateStores)");
            }
            return (S) task.store(storeName);
        }

        @Override
        public Cancellable schedule(Duration interval, PunctuationType type, Punctuator callback) {
            return task.schedule(ProcessorNodeImpl.this, interval, type, callback);
        }

        @Override
        public void commit() {
            task.requestCommit();
        }

        @Override
        public long currentSystemTimeMs() {
            return task.wallClockMs();
        }

        @Override
        public long currentStreamTimeMs() {
            return task.streamTimeMs();
        }
    }
}
