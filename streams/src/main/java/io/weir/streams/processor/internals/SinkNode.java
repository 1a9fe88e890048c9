package io.weir.streams.processor.internals;

import io.weir.consumer.errors.WakeupException;
import io.weir.producer.ProducerFatalException;
import io.weir.producer.ProducerRecord;
import io.weir.producer.Serializer;
import io.weir.producer.TransactionAbortableException;
import io.weir.protocol.ApiException;
import io.weir.streams.errors.ProductionExceptionHandler;
import io.weir.streams.errors.StreamsException;
import io.weir.streams.processor.StreamPartitioner;
import io.weir.streams.processor.TopicNameExtractor;
import io.weir.streams.processor.api.Record;

/** Serializes each record and sends it to its topic (fixed, or picked per record by an extractor). */
final class SinkNode extends ProcessorNode {
    private final String topic;
    private final TopicNameExtractor<Object, Object> extractor;
    private final StreamPartitioner<Object, Object> partitioner;
    private Serializer<Object> keySerializer;
    private Serializer<Object> valueSerializer;
    private StreamTask task;

    @SuppressWarnings("unchecked")
    SinkNode(String name, String topic, TopicNameExtractor<?, ?> extractor, Serializer<?> keySerializer,
             Serializer<?> valueSerializer, StreamPartitioner<?, ?> partitioner) {
        super(name);
        this.topic = topic;
        this.extractor = (TopicNameExtractor<Object, Object>) extractor;
        this.keySerializer = (Serializer<Object>) keySerializer;
        this.valueSerializer = (Serializer<Object>) valueSerializer;
        this.partitioner = (StreamPartitioner<Object, Object>) partitioner;
    }

    @Override
    @SuppressWarnings("unchecked")
    void init(StreamTask task) {
        this.task = task;
        if (keySerializer == null) {
            keySerializer = (Serializer<Object>) task.defaultKeySerde().serializer();
        }
        if (valueSerializer == null) {
            valueSerializer = (Serializer<Object>) task.defaultValueSerde().serializer();
        }
    }

    @Override
    void process(Record<Object, Object> record) {
        ProcessorRecordContext context = task.recordContext().withStamp(record.timestamp(), record.headers());
        String target = extractor == null ? topic : extractor.extract(record.key(), record.value(), context);
        if (target == null || target.isEmpty()) {
            throw new StreamsException("sink " + name() + ": the topic name extractor returned no topic for key " + record.key());
        }
        byte[] key;
        byte[] value;
        ProductionExceptionHandler.SerializationExceptionOrigin origin = ProductionExceptionHandler.SerializationExceptionOrigin.KEY;
        try {
            key = keySerializer.serialize(target, record.key());
            origin = ProductionExceptionHandler.SerializationExceptionOrigin.VALUE;
            value = valueSerializer.serialize(target, record.value());
        } catch (RuntimeException e) {
            if (task.onProductionError(this, new ProducerRecord<>(target, null, record.timestamp(), record.key(),
                record.value(), record.headers()), e, origin) == ProductionExceptionHandler.Result.RESUME) {
                return;
            }
            throw new StreamsException("sink " + name() + " could not serialize the record for topic " + target
                + " (key " + record.key() + "); check the sink's serdes or default.key.serde / default.value.serde", e);
        }
        Integer partition = partitioner == null ? null
            : partitioner.partition(target, record.key(), record.value(), task.collector().partitionCount(target));
        try {
            task.collector().send(target, partition, record.timestamp(), key, value, record.headers(), task.errorContext(name()));
        } catch (StreamsException | ProducerFatalException | TransactionAbortableException | WakeupException e) {
            throw e;
        } catch (ApiException e) {
            // refused before it left the client (too large for max.request.size, its topic not in metadata within
            // max.block.ms): the transaction is still good
            if (!ProductionErrors.goesToHandler(e)) {
                throw new StreamsException("sink " + name() + " could not send a record to topic " + target, e);
            }
            ProductionExceptionHandler.Result result = task.onProductionError(this,
                new ProducerRecord<>(target, partition, record.timestamp(), key, value, record.headers()), e, null);
            if (result == ProductionExceptionHandler.Result.RETRY) {
                throw new TaskRetryException("sink " + name() + " could not send a record to topic " + target
                    + " (a retriable error) and the production exception handler chose to retry", e);
            }
            if (result == ProductionExceptionHandler.Result.FAIL) {
                throw new StreamsException("sink " + name() + " could not send a record to topic " + target
                    + " and the production exception handler chose to fail", e);
            }
        }
    }

    @Override
    public String toString() {
        return name() + " -> " + (topic != null ? topic : "(extractor)");
    }
}
