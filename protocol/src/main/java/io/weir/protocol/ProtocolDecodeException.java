package io.weir.protocol;

/**
 * Thrown when bytes received from the network do not form a valid message: a truncated buffer, a
 * negative or overlong length, a varint that never ends, a null where the version forbids one.
 *
 * <p>It names the field being read and the byte offset within the frame, so a broker can log a
 * useful line and answer {@code INVALID_REQUEST} (or close the connection) instead of crashing.
 * Decoding never allocates more than the remaining input before throwing this.
 */
public final class ProtocolDecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final int position;

    public ProtocolDecodeException(String field, int position, String problem) {
        super("cannot decode field '" + field + "' at byte " + position + ": " + problem);
        this.field = field;
        this.position = position;
    }

    /** The name of the field whose bytes were bad. */
    public String field() {
        return field;
    }

    /** The offset, within the buffer being decoded, where the field started. */
    public int position() {
        return position;
    }
}
