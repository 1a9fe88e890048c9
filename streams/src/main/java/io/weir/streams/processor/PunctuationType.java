package io.weir.streams.processor;

/** Which clock drives a scheduled {@link Punctuator}. */
public enum PunctuationType {
    /** The task's stream time: the largest record timestamp it has processed; moves only with input. */
    STREAM_TIME,
    /** The wall clock, checked by the stream thread between records (by the test driver when told to). */
    WALL_CLOCK_TIME
}
