package io.weir.streams.processor.internals;

import io.weir.common.record.Header;
import io.weir.consumer.Deserializer;
import io.weir.streams.processor.TimestampExtractor;
import io.weir.streams.processor.api.Record;

/** Reads one or more topics: deserializes each record's key and value and forwards it. */
final class SourceNode extends ProcessorNode {
    private Deserializer<Object> keyDeserializer;
    private Deserializer<Object> valueDeserializer;
    private TimestampExtractor timestampExtractor;

    @SuppressWarnings("unchecked")
    SourceNode(String name, Deserializer<?> keyDeserializer, Deserializer<?> valueDeserializer, TimestampExtractor timestampExtractor) {
        super(name);
        this.keyDeserializer = (Deserializer<Object>) keyDeserializer;
        this.valueDeserializer = (Deserializer<Object>) valueDeserializer;
        this.timestampExtractor = timestampExtractor;
    }

    @Override
    @SuppressWarnings("unchecked")
    void init(StreamTask task) {
        if (keyDeserializer == null) {
            keyDeserializer = (Deserializer<Object>) task.defaultKeySerde().deserializer();
        }
        if (valueDeserializer == null) {
            valueDeserializer = (Deserializer<Object>) task.defaultValueSerde().deserializer();
        }
        if (timestampExtractor == null) {
            timestampExtractor = task.defaultTimestampExtractor();
        }
    }

    Object deserializeKey(String topic, Header[] headers, byte[] data) {
        return keyDeserializer.deserialize(topic, headers, data);
    }

    Object deserializeValue(String topic, Header[] headers, byte[] data) {
        return valueDeserializer.deserialize(topic, headers, data);
    }

    /** The record's event time, from the source's extractor (or the job's default one). */
    long timestamp(String topic, Object key, Object value, long recordTimestamp, long partitionTime) {
        return timestampExtractor.extract(topic, key, value, recordTimestamp, partitionTime);
    }

    @Override
    void process(Record<Object, Object> record) {
        forward(record);
    }
}
