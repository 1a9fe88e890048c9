package io.weir.broker.api;

import io.weir.broker.network.ByteBufferSend;
import io.weir.broker.network.RequestChannel;
import io.weir.broker.network.RequestStages;
import io.weir.broker.network.Send;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One parsed request in flight: its header, who sent it, and the one way to answer it. A handler
 * answers exactly once, now or later from another thread (a delayed fetch, a join that waits for the
 * group); a second answer is refused and logged, so the connection's responses stay in order.
 *
 * <p>Thread-safe.
 */
public final class RequestContext {
    private static final Logger log = LoggerFactory.getLogger(RequestContext.class);

    private final RequestHeader header;
    private final ApiKeys api;
    private final ResponseSink sink;
    private final RequestChannel.Request request;
    private final String connectionId;
    private final String clientAddress;
    private final AtomicBoolean answered = new AtomicBoolean();

    RequestContext(RequestHeader header, ApiKeys api, ResponseSink sink, RequestChannel.Request request,
                   String connectionId, String clientAddress) {
        this.header = header;
        this.api = api;
        this.sink = sink;
        this.request = request;
        this.connectionId = connectionId;
        this.clientAddress = clientAddress;
    }

    /** A context answering through {@code sink} (tests, and anything that is not a socket). */
    public static RequestContext of(RequestHeader header, ResponseSink sink, String connectionId) {
        return new RequestContext(header, ApiKeys.forId(header.apiKey()), sink, null, connectionId, connectionId);
    }

    public RequestHeader header() {
        return header;
    }

    public ApiKeys api() {
        return api;
    }

    public short apiVersion() {
        return header.apiVersion();
    }

    public String connectionId() {
        return connectionId;
    }

    public String clientAddress() {
        return clientAddress;
    }

    /** The network request behind this context, or null when it did not come from a socket. */
    RequestChannel.Request request() {
        return request;
    }

    /** Stamps a stage of a debug-sampled request ({@link RequestStages}); nothing otherwise. */
    void mark(RequestStages.Stage stage) {
        if (request != null) {
            request.mark(stage);
        }
    }

    /** Notes the offset this debug-sampled request produced at or fetched from ({@link RequestStages}); else nothing. */
    void noteOffset(long offset) {
        if (request != null) {
            request.noteOffset(offset);
        }
    }

    /** True once the request was answered (responded, no response, or closed). */
    public boolean isAnswered() {
        return answered.get();
    }

    /** Serializes {@code response} for this request's version and sends it. */
    public void respond(ApiMessage response) {
        if (request != null && request.stamped() && response instanceof io.weir.protocol.message.ProduceResponse pr
            && !pr.responses().isEmpty() && !pr.responses().get(0).partitionResponses().isEmpty()) {
            request.noteOffset(pr.responses().get(0).partitionResponses().get(0).baseOffset()); // debug stages only
        }
        // serialize before claiming: a response that cannot be written leaves the request answerable
        Send send = new ByteBufferSend(MessageCodec.serializeResponse(header, response));
        if (claim("respond")) {
            sink.respond(send);
        }
    }

    /** Sends a response already framed (a fetch's spliced zero-copy frame). */
    public void respond(Send response) {
        if (claim("respond")) {
            sink.respond(response);
        }
    }

    public void noResponse() {
        if (claim("noResponse")) {
            sink.noResponse();
        }
    }

    public void closeConnection() {
        if (claim("close")) {
            sink.closeConnection();
        }
    }

    /**
     * Marks the request answered by someone who answers through the network request directly
     * (the group APIs); returns false if it already was.
     */
    boolean claimForDelegate() {
        return answered.compareAndSet(false, true);
    }

    private boolean claim(String what) {
        if (answered.compareAndSet(false, true)) {
            return true;
        }
        log.error("{} v{} from {}: second answer ({}) dropped; the request was already answered", api,
            header.apiVersion(), connectionId, what, new IllegalStateException("answered twice"));
        return false;
    }
}
