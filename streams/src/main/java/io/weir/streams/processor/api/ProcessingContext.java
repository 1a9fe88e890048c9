package io.weir.streams.processor.api;

import io.weir.streams.processor.Cancellable;
import io.weir.streams.processor.PunctuationType;
import io.weir.streams.processor.Punctuator;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import io.weir.streams.serialization.Serde;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** What every processor's context offers, whatever it may forward. */
public interface ProcessingContext {
    String applicationId();

    TaskId taskId();

    /** The input position of the record being processed; empty inside a punctuation. */
    Optional<RecordMetadata> recordMetadata();

    Serde<?> keySerde();

    Serde<?> valueSerde();

    Path stateDir();

    Map<String, Object> appConfigs();

    /**
     * A store this processor was connected to (by name in {@code addProcessor}/{@code process} or through
     * {@code connectProcessorAndStateStores}); asking for any other store fails.
     */
    <S extends StateStore> S getStateStore(String name);

    /**
     * Calls the punctuator every {@code interval} of the given clock. Stream-time schedules fire when a
     * record moves stream time to or past their due time (once, however far it jumps); wall-clock ones
     * when the thread (or the test driver) sees the wall clock due.
     */
    Cancellable schedule(Duration interval, PunctuationType type, Punctuator callback);

    /** Asks for a commit soon after this record (the runtime commits on its interval anyway). */
    void commit();

    /** The wall clock the task reads (the driver's mock clock in tests). */
    long currentSystemTimeMs();

    /** The task's stream time: the largest record timestamp it has processed, or -1 before any. */
    long currentStreamTimeMs();
}
