package io.weir.common.record;

/**
 * Thrown when bytes that should hold record batches do not: a bad CRC, a wrong magic byte, a length
 * that overruns its buffer, a malformed varint, a record count that does not match. The message
 * always names what was wrong and where (an offset, a file position or a byte index).
 */
public class CorruptRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(String message) {
        super(message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
