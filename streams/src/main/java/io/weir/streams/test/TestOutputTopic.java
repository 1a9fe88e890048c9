package io.weir.streams.test;

import io.weir.common.record.Header;
import io.weir.consumer.Deserializer;
import io.weir.streams.KeyValue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Reads, in order, what a {@link TopologyTestDriver}'s topology wrote to a topic; each read consumes
 * the record. Reading an empty topic throws {@link NoSuchElementException}. Not thread-safe.
 */
public final class TestOutputTopic<K, V> {
    private final TopologyTestDriver driver;
    private final String topic;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;

    TestOutputTopic(TopologyTestDriver driver, String topic, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.driver = driver;
        this.topic = topic;
        this.keyDeserializer = keyDeserializer;
        this.valueDeserializer = valueDeserializer;
    }

    public TestRecord<K, V> readRecord() {
        TopologyTestDriver.Captured c = driver.readOutput(topic);
        if (c == null) {
            throw new NoSuchElementException("no record left in topic " + topic);
        }
        Header[] headers = c.headers().toArray(new Header[0]);
        return new TestRecord<>(keyDeserializer.deserialize(topic, headers, c.key()),
            valueDeserializer.deserialize(topic, headers, c.value()), c.headers(), Instant.ofEpochMilli(c.timestamp()));
    }

    public V readValue() {
        return readRecord().value();
    }

    public KeyValue<K, V> readKeyValue() {
        TestRecord<K, V> r = readRecord();
        return KeyValue.pair(r.key(), r.value());
    }

    public List<TestRecord<K, V>> readRecordsToList() {
        List<TestRecord<K, V>> list = new ArrayList<>();
        while (!isEmpty()) {
            list.add(readRecord());
        }
        return list;
    }

    public List<V> readValuesToList() {
        List<V> list = new ArrayList<>();
        while (!isEmpty()) {
            list.add(readValue());
        }
        return list;
    }

    public List<KeyValue<K, V>> readKeyValuesToList() {
        List<KeyValue<K, V>> list = new ArrayList<>();
        while (!isEmpty()) {
            list.add(readKeyValue());
        }
        return list;
    }

    /**
     * Every remaining record as a map, the last value of a key winning (a table's latest state; a
     * tombstone leaves the key mapped to null, as Kafka's driver does). A null key fails.
     */
    public Map<K, V> readKeyValuesToMap() {
        Map<K, V> map = new LinkedHashMap<>();
        while (!isEmpty()) {
            KeyValue<K, V> kv = readKeyValue();
            if (kv.key == null) {
                throw new IllegalStateException("topic " + topic + " holds a record with a null key; it cannot go into a map");
            }
            map.put(kv.key, kv.value);
        }
        return map;
    }

    public boolean isEmpty() {
        return getQueueSize() == 0;
    }

    public long getQueueSize() {
        return driver.outputSize(topic);
    }

    @Override
    public String toString() {
        return "TestOutputTopic(topic=" + topic + ", size=" + getQueueSize() + ")";
    }
}
