package io.weir.streams.kstream.internals;

import io.weir.streams.processor.Cancellable;
import io.weir.streams.processor.PunctuationType;
import io.weir.streams.processor.Punctuator;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import io.weir.streams.processor.api.FixedKeyProcessor;
import io.weir.streams.processor.api.FixedKeyProcessorContext;
import io.weir.streams.processor.api.FixedKeyRecord;
import io.weir.streams.processor.api.Processor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.Record;
import io.weir.streams.processor.api.RecordMetadata;
import io.weir.streams.serialization.Serde;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Runs a {@link FixedKeyProcessor} as a graph node: its context can forward only records it was given. */
final class FixedKeyProcessorAdapter<K, VIn, VOut> implements Processor<K, VIn, K, VOut> {
    private final FixedKeyProcessor<K, VIn, VOut> processor;

    FixedKeyProcessorAdapter(FixedKeyProcessor<K, VIn, VOut> processor) {
        this.processor = processor;
    }

    @Override
    public void init(ProcessorContext<K, VOut> context) {
        processor.init(new FixedKeyProcessorContext<>() {
            @Override
            public <K1 extends K, V1 extends VOut> void forward(FixedKeyRecord<K1, V1> record) {
                context.forward(record.toRecord());
            }

            @Override
            public <K1 extends K, V1 extends VOut> void forward(FixedKeyRecord<K1, V1> record, String childName) {
                context.forward(record.toRecord(), childName);
            }

            @Override
            public String applicationId() {
                return context.applicationId();
            }

            @Override
            public TaskId taskId() {
                return context.taskId();
            }

            @Override
            public Optional<RecordMetadata> recordMetadata() {
                return context.recordMetadata();
            }

            @Override
            public Serde<?> keySerde() {
                return context.keySerde();
            }

            @Override
            public Serde<?> valueSerde() {
                return context.valueSerde();
            }

            @Override
            public Path stateDir() {
                return context.stateDir();
            }

            @Override
            public Map<String, Object> appConfigs() {
                return context.appConfigs();
            }

            @Override
            public <S extends StateStore> S getStateStore(String name) {
                return context.getStateStore(name);
            }

            @Override
            public Cancellable schedule(Duration interval, PunctuationType type, Punctuator callback) {
                return context.schedule(interval, type, callback);
            }

            @Override
            public void commit() {
                context.commit();
            }

            @Override
            public long currentSystemTimeMs() {
                return context.currentSystemTimeMs();
            }

            @Override
            public long currentStreamTimeMs() {
                return context.currentStreamTimeMs();
            }
        });
    }

    @Override
    public void process(Record<K, VIn> record) {
        processor.process(FixedKeyRecord.of(record));
    }

    @Override
    public void close() {
        processor.close();
    }
}
