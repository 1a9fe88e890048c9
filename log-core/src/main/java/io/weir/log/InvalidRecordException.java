package io.weir.log;

/** A batch breaks a rule of the log it is appended to (no key in a compacted topic, offsets not increasing on a follower); nothing is appended. */
public final class InvalidRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidRecordException(String message) {
        super(message);
    }
}
