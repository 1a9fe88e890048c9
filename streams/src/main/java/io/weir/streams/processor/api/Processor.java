package io.weir.streams.processor.api;

/**
 * A node of a topology: gets each record, may read and write stores and forward any number of
 * records. One instance per task, called by one thread.
 */
public interface Processor<KIn, VIn, KOut, VOut> {

    /** Called once before the first record, with the context to keep. */
    default void init(ProcessorContext<KOut, VOut> context) {
    }

    void process(Record<KIn, VIn> record);

    /** Called once when the task closes; stores are still open. */
    default void close() {
    }
}
