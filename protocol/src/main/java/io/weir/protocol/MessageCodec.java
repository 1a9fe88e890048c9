package io.weir.protocol;

import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.ApiMessages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Predicate;

/**
 * The entry points a broker and a client use to turn frames into messages and back.
 *
 * <p>A frame on the wire is {@code size int32 | header | body}. {@link FrameReader} strips the size;
 * the methods here take and produce what follows it, except {@link #serializeResponse} and
 * {@link #serializeRequest}, which return a whole size-prefixed frame ready to write to a socket.
 * Records fields in parsed bodies are slices of the frame buffer, so the frame must not be reused
 * while the message is in use. Stateless and thread-safe.
 */
public final class MessageCodec {
    private static final Logger log = LoggerFactory.getLogger(MessageCodec.class);

    private MessageCodec() {
    }

    /** A parsed request; {@code body} is null when the API or version is not implemented. */
    public record ParsedRequest(RequestHeader header, ApiMessage body) {
        /** The implemented API, or null. */
        public ApiKeys api() {
            return ApiKeys.forId(header.apiKey());
        }
    }

    /**
     * Parses a request frame (without its size prefix). When the API or version is unsupported the
     * body is left unread and {@link ParsedRequest#body()} is null: answer UNSUPPORTED_VERSION.
     *
     * <p>Bytes after a well-formed body are ignored (logged at debug), as Kafka does: some clients
     * send them (librdkafka 2.15's Metadata v13 carries three extra zero bytes). A body that is short
     * or malformed is still an error.
     *
     * @throws ProtocolDecodeException if the header or body is malformed; nothing else escapes for
     *     any input, and decoding allocates at most a small multiple of the frame's size
     */
    public static ParsedRequest parseRequest(ByteBuffer frame) {
        ProtocolReader r = new ProtocolReader(frame);
        RequestHeader header = RequestHeader.read(r);
        ApiKeys api = ApiKeys.forId(header.apiKey());
        if (api == null || !api.isVersionSupported(header.apiVersion())) {
            return new ParsedRequest(header, null);
        }
        ApiMessage body = ApiMessages.readRequest(header.apiKey(), header.apiVersion(), r);
        if (r.remaining() != 0 && log.isDebugEnabled()) {
            log.debug("ignoring {} bytes after the body of {} v{} (correlation id {}, client {})", r.remaining(),
                api.apiName(), header.apiVersion(), header.correlationId(), header.clientId());
        }
        return new ParsedRequest(header, body);
    }

    /**
     * Parses only the header of a request frame, e.g. to answer a request whose body could not be
     * parsed.
     *
     * @throws ProtocolDecodeException if the header is malformed
     */
    public static RequestHeader parseRequestHeader(ByteBuffer frame) {
        return RequestHeader.read(new ProtocolReader(frame));
    }

    /**
     * The response to {@code header} that carries {@code error} in its top-level error code, with
     * every other field at its default; null when the API is not implemented or its response has no
     * top-level error code in that version (then no meaningful answer exists and the connection
     * should close). Used to answer a request whose header parsed but whose body did not with
     * {@link Errors#INVALID_REQUEST}.
     */
    public static ApiMessage errorResponse(RequestHeader header, Errors error) {
        ApiKeys api = ApiKeys.forId(header.apiKey());
        if (api == null || !api.isVersionSupported(header.apiVersion())) {
            return null;
        }
        return ApiMessages.errorResponse(header.apiKey(), header.apiVersion(), error.code());
    }

    /**
     * For a request frame whose body failed to parse: the whole response frame (size prefix
     * included) answering it with {@link Errors#INVALID_REQUEST}, or null when the header does not
     * parse either, the API is not one of those {@code answered} (what the caller serves), or the
     * API's response has no top-level error code in that version.
     */
    public static ByteBuffer invalidRequestResponse(ByteBuffer frame, Predicate<ApiKeys> answered) {
        RequestHeader header;
        try {
            header = parseRequestHeader(frame);
        } catch (ProtocolDecodeException e) {
            return null;
        }
        ApiKeys api = ApiKeys.forId(header.apiKey());
        if (api == null || !answered.test(api)) {
            return null;
        }
        ApiMessage response = errorResponse(header, Errors.INVALID_REQUEST);
        return response == null ? null : serializeResponse(header, response);
    }

    /** Bytes a response takes on the wire after the size prefix (header + body). */
    public static int responseSize(RequestHeader requestHeader, ApiMessage response) {
        short version = requestHeader.apiVersion();
        return ResponseHeader.size(responseHeaderVersion(requestHeader)) + response.size(version);
    }

    /** Writes header + body of a response to the request {@code requestHeader} into {@code dst}. */
    public static void writeResponse(RequestHeader requestHeader, ApiMessage response, ByteBuffer dst) {
        checkMatches(requestHeader, response);
        ProtocolWriter w = new ProtocolWriter(dst);
        ResponseHeader.write(w, requestHeader.correlationId(), responseHeaderVersion(requestHeader));
        response.write(w, requestHeader.apiVersion());
        if (!w.splices().isEmpty()) {
            throw new IllegalStateException("response holds file-backed records: use serializeResponseSpliced");
        }
    }

    /** A new buffer holding the whole response frame (size prefix, header, body), ready to send. */
    public static ByteBuffer serializeResponse(RequestHeader requestHeader, ApiMessage response) {
        int size = responseSize(requestHeader, response);
        ByteBuffer buf = ByteBuffer.allocate(4 + size);
        buf.putInt(size);
        writeResponse(requestHeader, response, buf);
        if (buf.hasRemaining()) {
            throw new IllegalStateException("response size " + size + " disagrees with bytes written " + (buf.position() - 4));
        }
        return buf.flip();
    }

    /**
     * A response frame whose {@link Records.Sendable} records are not in {@code buffer}: the frame on
     * the wire is buffer[0, splice0.position) + splice0's records + buffer[splice0.position, splice1.position) + ...
     */
    public record SplicedFrame(ByteBuffer buffer, List<Splice> splices, long sizeInBytes) {
    }

    /**
     * Serializes a response that may hold file-backed records (a fetch served with zero copy).
     * {@code sendableBytes} is the total size of its {@link Records.Sendable} values, which the
     * caller knows, so the buffer is allocated for the in-memory part only.
     */
    public static SplicedFrame serializeResponseSpliced(RequestHeader requestHeader, ApiMessage response,
                                                        long sendableBytes) {
        int size = responseSize(requestHeader, response);
        long inMemory = 4L + size - sendableBytes;
        if (inMemory < 4 || inMemory > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sendable bytes " + sendableBytes + " do not fit a response of " + size);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) inMemory);
        buf.putInt(size);
        checkMatches(requestHeader, response);
        ProtocolWriter w = new ProtocolWriter(buf);
        ResponseHeader.write(w, requestHeader.correlationId(), responseHeaderVersion(requestHeader));
        response.write(w, requestHeader.apiVersion());
        long spliced = 0;
        for (Splice s : w.splices()) {
            spliced += s.records().sizeInBytes();
        }
        if (buf.hasRemaining() || spliced != sendableBytes) {
            throw new IllegalStateException("response size " + size + " disagrees with bytes written "
                + (buf.position() - 4) + " + spliced " + spliced);
        }
        return new SplicedFrame(buf.flip(), w.splices(), 4L + size);
    }

    /** A new buffer holding the whole request frame (size prefix, header, body), ready to send. */
    public static ByteBuffer serializeRequest(RequestHeader header, ApiMessage request) {
        int size = requestSize(header, request);
        ByteBuffer buf = ByteBuffer.allocate(4 + size);
        writeRequest(header, request, size, buf);
        return buf.flip();
    }

    /** Bytes a request takes on the wire after the size prefix (header + body). */
    public static int requestSize(RequestHeader header, ApiMessage request) {
        if (header.apiKey() != request.apiKey()) {
            throw new IllegalArgumentException("header api key " + header.apiKey() + " but body api key " + request.apiKey());
        }
        return header.size() + request.size(header.apiVersion());
    }

    /**
     * Writes the whole request frame (size prefix {@code size}, from {@link #requestSize}; header; body) into
     * {@code dst} at its position, such as a reused direct buffer of the caller's.
     */
    public static void writeRequest(RequestHeader header, ApiMessage request, int size, ByteBuffer dst) {
        int start = dst.position();
        dst.putInt(size);
        ProtocolWriter w = new ProtocolWriter(dst);
        header.write(w);
        request.write(w, header.apiVersion());
        if (dst.position() - start != 4 + size) {
            throw new IllegalStateException("request size " + size + " disagrees with bytes written "
                + (dst.position() - start - 4));
        }
    }

    /** A parsed response: the correlation id (to match the request) and the body. */
    public record ParsedResponse(int correlationId, ApiMessage body) {
    }

    /** Parses a response frame (without its size prefix) to a request of {@code api} at {@code version}. */
    public static ParsedResponse parseResponse(ApiKeys api, short version, ByteBuffer frame) {
        ProtocolReader r = new ProtocolReader(frame);
        int correlationId = ResponseHeader.read(r, api.responseHeaderVersion(version));
        ApiMessage body = ApiMessages.readResponse(api.id(), version, r);
        if (r.remaining() != 0) {
            throw new ProtocolDecodeException(api.apiName() + "Response", r.position() - frame.position(),
                r.remaining() + " unexpected bytes after the body");
        }
        return new ParsedResponse(correlationId, body);
    }

    private static short responseHeaderVersion(RequestHeader requestHeader) {
        ApiKeys api = ApiKeys.forId(requestHeader.apiKey());
        if (api == null) {
            throw new IllegalArgumentException("api key " + requestHeader.apiKey() + " is not implemented");
        }
        return api.responseHeaderVersion(requestHeader.apiVersion());
    }

    private static void checkMatches(RequestHeader requestHeader, ApiMessage response) {
        if (requestHeader.apiKey() != response.apiKey()) {
            throw new IllegalArgumentException("request api key " + requestHeader.apiKey()
                + " but response api key " + response.apiKey());
        }
    }
}
