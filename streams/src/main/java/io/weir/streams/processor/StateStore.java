package io.weir.streams.processor;

/**
 * A named piece of task state that processors reach through {@code ProcessorContext.getStateStore}.
 * The runtime (or the test driver) opens it with {@link #init} before any processor sees it and closes
 * it when the task closes.
 */
public interface StateStore {
    String name();

    /** Opens the store for a task; it registers itself with the context so commits and aborts reach it. */
    void init(StateStoreContext context);

    /** True if it survives a process restart. */
    boolean persistent();

    boolean isOpen();

    void close();
}
