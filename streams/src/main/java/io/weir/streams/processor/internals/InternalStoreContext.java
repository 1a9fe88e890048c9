package io.weir.streams.processor.internals;

import io.weir.streams.processor.StateStoreContext;

/**
 * What the runtime's stores learn of their task beyond {@link StateStoreContext}: the thread's record
 * cache and the record context, so that a caching store can stamp a cached write with the record that
 * made it and hand it on later under that same context.
 */
interface InternalStoreContext extends StateStoreContext {

    /** The thread's record cache, or null when stores of this task do not cache (global stores). */
    ThreadCache cache();

    /**
     * The context of the record (or punctuation) being processed; outside processing (a processor's
     * {@code init}), a punctuation-like context stamped with the task's stream time (at least 0).
     */
    ProcessorRecordContext recordContext();

    /** Runs {@code action} as if the record of {@code context} were being processed, then restores the current one. */
    void runInContext(ProcessorRecordContext context, Runnable action);
}
