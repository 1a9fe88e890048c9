package io.weir.protocol;

import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;

/**
 * The header in front of every response body.
 * <pre>
 * v0: correlation_id int32
 * v1: v0 | tagged fields (none defined; skipped on read)
 * </pre>
 * Which version applies is {@link ApiKeys#responseHeaderVersion(short)}.
 */
public final class ResponseHeader {
    private ResponseHeader() {
    }

    public static void write(ProtocolWriter w, int correlationId, short headerVersion) {
        w.writeInt32(correlationId);
        if (headerVersion >= 1) {
            w.writeUnsignedVarint(0);
        }
    }

    public static int size(short headerVersion) {
        return headerVersion >= 1 ? 5 : 4;
    }

    /** Reads the header and returns the correlation id. */
    public static int read(ProtocolReader r, short headerVersion) {
        int correlationId = r.readInt32("correlation_id");
        if (headerVersion >= 1) {
            RequestHeader.skipTaggedFields(r);
        }
        return correlationId;
    }
}
