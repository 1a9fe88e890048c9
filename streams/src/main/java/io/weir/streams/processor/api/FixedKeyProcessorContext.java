package io.weir.streams.processor.api;

/** A {@link FixedKeyProcessor}'s context: it forwards records whose key it cannot have changed. */
public interface FixedKeyProcessorContext<KForward, VForward> extends ProcessingContext {

    <K extends KForward, V extends VForward> void forward(FixedKeyRecord<K, V> record);

    <K extends KForward, V extends VForward> void forward(FixedKeyRecord<K, V> record, String childName);
}
