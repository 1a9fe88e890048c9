package io.weir.log;

/**
 * An offset and where it sits on disk: the base offset of its segment and its byte position there.
 * Readers bound themselves by the log end's metadata so they never read past published bytes.
 * A position of -1 means unknown (an offset not yet located).
 */
public record LogOffsetMetadata(long messageOffset, long segmentBaseOffset, int relativePositionInSegment) {
    public static final int UNKNOWN_POSITION = -1;

    public LogOffsetMetadata(long messageOffset) {
        this(messageOffset, -1L, UNKNOWN_POSITION);
    }

    public boolean onOlderSegment(LogOffsetMetadata that) {
        return segmentBaseOffset < that.segmentBaseOffset;
    }
}
