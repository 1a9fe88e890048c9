package io.weir.streams.processor.api;

/**
 * A {@link Processor}'s view of its task: forward records to its children, reach its stores, schedule
 * punctuations, read the input position.
 *
 * @param <KForward> the key type it forwards
 * @param <VForward> the value type it forwards
 */
public interface ProcessorContext<KForward, VForward> extends ProcessingContext {

    /** Sends the record to every child, one after another, before returning. */
    <K extends KForward, V extends VForward> void forward(Record<K, V> record);

    /** Sends the record to the child of that name only; an unknown name fails. */
    <K extends KForward, V extends VForward> void forward(Record<K, V> record, String childName);
}
