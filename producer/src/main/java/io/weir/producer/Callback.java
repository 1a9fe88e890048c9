package io.weir.producer;

/**
 * Told the outcome of one {@link Producer#send}. Runs on the producer's I/O thread, in send order per
 * partition, so it must not block; hand heavy work to another thread.
 */
@FunctionalInterface
public interface Callback {
    /**
     * @param metadata  where the record went; on failure only topic and partition are meaningful
     *                  (offset -1)
     * @param exception null on success, otherwise why the record was not (or may not have been) written
     */
    void onCompletion(RecordMetadata metadata, Exception exception);
}
