package io.weir.streams.test;

import io.weir.producer.Serializer;
import io.weir.streams.KeyValue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Pipes records into a {@link TopologyTestDriver}'s topic: each is serialized, processed through the
 * whole topology, and committed before the call returns. Records without a timestamp take the topic's
 * current time, which starts at the time given at creation and moves by the auto-advance after each
 * record (and by {@link #advanceTime}). Not thread-safe.
 */
public final class TestInputTopic<K, V> {
    private final TopologyTestDriver driver;
    private final String topic;
    private final Serializer<K> keySerializer;
    private final Serializer<V> valueSerializer;
    private final Duration autoAdvance;
    private Instant currentTime;

    TestInputTopic(TopologyTestDriver driver, String topic, Serializer<K> keySerializer, Serializer<V> valueSerializer,
                   Instant startTime, Duration autoAdvance) {
        if (autoAdvance.isNegative()) {
            throw new IllegalArgumentException("autoAdvance must be >= 0, got " + autoAdvance);
        }
        this.driver = driver;
        this.topic = topic;
        this.keySerializer = keySerializer;
        this.valueSerializer = valueSerializer;
        this.currentTime = startTime;
        this.autoAdvance = autoAdvance;
    }

    public void advanceTime(Duration advance) {
        if (advance.isNegative()) {
            throw new IllegalArgumentException("advance must be >= 0, got " + advance);
        }
        currentTime = currentTime.plus(advance);
    }

    public void pipeInput(TestRecord<K, V> record) {
        Instant time = record.getRecordTime();
        if (time == null) {
            time = currentTime;
            currentTime = currentTime.plus(autoAdvance);
        }
        driver.pipeRecord(topic, keySerializer.serialize(topic, record.key()), valueSerializer.serialize(topic, record.value()),
            record.headers(), time.toEpochMilli());
    }

    public void pipeInput(V value) {
        pipeInput(new TestRecord<>(value));
    }

    public void pipeInput(K key, V value) {
        pipeInput(new TestRecord<>(key, value));
    }

    public void pipeInput(K key, V value, long timestampMs) {
        pipeInput(new TestRecord<>(key, value, Instant.ofEpochMilli(timestampMs)));
    }

    public void pipeInput(K key, V value, Instant timestamp) {
        pipeInput(new TestRecord<>(key, value, timestamp));
    }

    public void pipeValueList(List<V> values) {
        for (V v : values) {
            pipeInput(v);
        }
    }

    public void pipeKeyValueList(List<KeyValue<K, V>> keyValues) {
        for (KeyValue<K, V> kv : keyValues) {
            pipeInput(kv.key, kv.value);
        }
    }

    public void pipeRecordList(List<TestRecord<K, V>> records) {
        for (TestRecord<K, V> r : records) {
            pipeInput(r);
        }
    }

    @Override
    public String toString() {
        return "TestInputTopic(topic=" + topic + ", currentTime=" + currentTime + ")";
    }
}
