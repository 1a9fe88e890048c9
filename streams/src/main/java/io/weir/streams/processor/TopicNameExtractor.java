package io.weir.streams.processor;

/** Picks the output topic of each record a {@code to(...)} sink writes (dynamic routing). */
@FunctionalInterface
public interface TopicNameExtractor<K, V> {
    /** The topic for this record; it must exist (the job does not create it). */
    String extract(K key, V value, RecordContext recordContext);
}
