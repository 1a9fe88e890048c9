package io.weir.common.record;

/**
 * Why one record of a batch was refused (Produce v8+'s {@code recordErrors}).
 *
 * @param batchIndex the record's index inside its batch, from 0
 * @param message    what was wrong with it
 */
public record RecordError(int batchIndex, String message) {
}
