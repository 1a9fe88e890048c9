package io.weir.protocol;

import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.internals.Sizes;

import java.util.Objects;

/**
 * The header in front of every request body.
 * <pre>
 * v1: api_key int16 | api_version int16 | correlation_id int32 | client_id nullable string (int16 length)
 * v2: v1 | tagged fields (unsigned varint count, then tag/size/value; none are defined, all are skipped)
 * </pre>
 * The client id stays a classic (non-compact) string even in v2. Immutable.
 */
public final class RequestHeader {
    private final short apiKey;
    private final short apiVersion;
    private final int correlationId;
    private final String clientId;
    private final short headerVersion;

    public RequestHeader(short apiKey, short apiVersion, int correlationId, String clientId, short headerVersion) {
        if (headerVersion != 1 && headerVersion != 2) {
            throw new IllegalArgumentException("request header version must be 1 or 2, not " + headerVersion);
        }
        this.apiKey = apiKey;
        this.apiVersion = apiVersion;
        this.correlationId = correlationId;
        this.clientId = clientId;
        this.headerVersion = headerVersion;
    }

    /** A header for an implemented API, with the header version that API and version require. */
    public static RequestHeader of(ApiKeys api, short apiVersion, int correlationId, String clientId) {
        return new RequestHeader(api.id(), apiVersion, correlationId, clientId, api.requestHeaderVersion(apiVersion));
    }

    /**
     * Reads a header. The header version follows from the API and version; for an API or version Weir
     * does not implement, only the v1 part is read (enough to answer UNSUPPORTED_VERSION), and
     * {@link #headerVersion()} is 1.
     */
    public static RequestHeader read(ProtocolReader r) {
        short apiKey = r.readInt16("api_key");
        short apiVersion = r.readInt16("api_version");
        int correlationId = r.readInt32("correlation_id");
        String clientId = r.readString("client_id", false, true);
        ApiKeys api = ApiKeys.forId(apiKey);
        short headerVersion = 1;
        if (api != null && api.isVersionSupported(apiVersion) && api.requestHeaderVersion(apiVersion) == 2) {
            headerVersion = 2;
            skipTaggedFields(r);
        }
        return new RequestHeader(apiKey, apiVersion, correlationId, clientId, headerVersion);
    }

    static void skipTaggedFields(ProtocolReader r) {
        int n = r.readTaggedFieldCount("header tagged field count");
        for (int i = 0; i < n; i++) {
            r.readUnsignedVarint("header tag");
            r.skipTo("header tagged field", r.readTaggedFieldEnd("header tagged field"));
        }
    }

    public void write(ProtocolWriter w) {
        w.writeInt16(apiKey);
        w.writeInt16(apiVersion);
        w.writeInt32(correlationId);
        w.writeString(clientId, false);
        if (headerVersion >= 2) {
            w.writeUnsignedVarint(0);
        }
    }

    public int size() {
        return 8 + Sizes.string(clientId, false) + (headerVersion >= 2 ? 1 : 0);
    }

    public short apiKey() {
        return apiKey;
    }

    public short apiVersion() {
        return apiVersion;
    }

    public int correlationId() {
        return correlationId;
    }

    /** May be null. */
    public String clientId() {
        return clientId;
    }

    public short headerVersion() {
        return headerVersion;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestHeader h && h.apiKey == apiKey && h.apiVersion == apiVersion
            && h.correlationId == correlationId && Objects.equals(h.clientId, clientId) && h.headerVersion == headerVersion;
    }

    @Override
    public int hashCode() {
        return Objects.hash(apiKey, apiVersion, correlationId, clientId, headerVersion);
    }

    @Override
    public String toString() {
        return "RequestHeader(apiKey=" + apiKey + ", apiVersion=" + apiVersion + ", correlationId=" + correlationId
            + ", clientId=" + clientId + ", headerVersion=" + headerVersion + ")";
    }
}
