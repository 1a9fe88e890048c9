package io.weir.streams.processor;

/** A periodic callback a processor schedules through {@code ProcessorContext.schedule}. */
@FunctionalInterface
public interface Punctuator {
    /** Called when the schedule is due, with the stream time or the wall-clock time (ms) that made it due. */
    void punctuate(long timestamp);
}
