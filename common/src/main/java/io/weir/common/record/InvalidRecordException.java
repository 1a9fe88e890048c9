package io.weir.common.record;

import java.util.List;

/**
 * A batch breaks a rule of the log it is appended to (a record that does not fit its batch, offsets
 * that do not match the count, no key in a compacted topic, a control batch from a client); nothing
 * is appended. Answered as INVALID_RECORD. When the fault lies in particular records (a missing key),
 * {@link #recordErrors()} names them by their index in the batch, as Produce v8+ reports them.
 */
public final class InvalidRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient List<RecordError> recordErrors;

    public InvalidRecordException(String message) {
        this(message, List.of());
    }

    public InvalidRecordException(String message, List<RecordError> recordErrors) {
        super(message);
        this.recordErrors = List.copyOf(recordErrors);
    }

    /** The records at fault, in batch order; empty when the batch as a whole is bad. */
    public List<RecordError> recordErrors() {
        return recordErrors;
    }
}
