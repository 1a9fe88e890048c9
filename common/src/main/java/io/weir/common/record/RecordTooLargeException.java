package io.weir.common.record;

/** A batch is larger than max.message.bytes; the request is rejected and nothing is appended. */
public final class RecordTooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RecordTooLargeException(String message) {
        super(message);
    }
}
