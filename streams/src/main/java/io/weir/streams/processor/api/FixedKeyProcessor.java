package io.weir.streams.processor.api;

/** A processor that keeps each record's key (used by {@code KStream.processValues}). */
public interface FixedKeyProcessor<KIn, VIn, VOut> {

    default void init(FixedKeyProcessorContext<KIn, VOut> context) {
    }

    void process(FixedKeyRecord<KIn, VIn> record);

    default void close() {
    }
}
