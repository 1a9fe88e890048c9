package io.weir.broker.api;

import io.weir.broker.network.ByteBufferSend;
import io.weir.broker.network.RequestChannel;
import io.weir.broker.network.Send;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.ProtocolDecodeException;
import io.weir.protocol.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * Parses each request frame and hands it to the handler the {@link ApiHandlerRegistry} names for its
 * API and version; called on request-handler threads. Only a frame that cannot be parsed, or names an
 * API or version no handler implements, closes its connection (no response can be framed for it;
 * ApiVersions is the exception: a too-new one is answered in v0 with UNSUPPORTED_VERSION, so the
 * client can retry lower). A handler that throws answers that request with the error the throwable
 * maps to ({@link Errors#forException}), shaped per item by the handler, and the connection goes on.
 *
 * <p>Thread-safe: state lives in the handlers.
 */
public final class RequestDispatcher {
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final ApiHandlerRegistry registry;

    public RequestDispatcher(ApiHandlerRegistry registry) {
        this.registry = registry;
    }

    public ApiHandlerRegistry registry() {
        return registry;
    }

    /** Handles one request frame; always ends with a response, no response, or a closed connection. */
    public void handle(RequestChannel.Request request) {
        ResponseSink sink = new ResponseSink() {
            @Override
            public void respond(Send response) {
                request.respond(response);
            }

            @Override
            public void noResponse() {
                request.noResponse();
            }

            @Override
            public void closeConnection() {
                request.closeConnection();
            }
        };
        dispatch(request.frame(), sink, request, request.connectionId(), request.clientAddress());
    }

    /** Handles one request frame answered through {@code sink} (tests drive the broker's handlers this way). */
    public void handle(ByteBuffer frame, ResponseSink sink, String connectionId) {
        dispatch(frame, sink, null, connectionId, connectionId);
    }

    private void dispatch(ByteBuffer frame, ResponseSink sink, RequestChannel.Request request, String connectionId,
                          String clientAddress) {
        // ---- parse failure: the only case that closes a connection for what the bytes say
        MessageCodec.ParsedRequest parsed;
        try {
            parsed = MessageCodec.parseRequest(frame);
        } catch (ProtocolDecodeException | IllegalArgumentException e) {
            // the header parsed and the response has a top-level error code: answer INVALID_REQUEST, keep the connection
            ByteBuffer invalid = MessageCodec.invalidRequestResponse(frame, registry.apis()::containsKey);
            if (invalid != null) {
                log.info("answering INVALID_REQUEST to connection {} from {}: malformed request: {}", connectionId,
                    clientAddress, e.getMessage());
                sink.respond(new ByteBufferSend(invalid));
                return;
            }
            log.warn("closing connection {} from {}: malformed request: {}", connectionId, clientAddress,
                e.getMessage());
            sink.closeConnection();
            return;
        }
        // ---- end of parse failure
        RequestHeader header = parsed.header();
        ApiKeys api = parsed.api();
        ApiHandler handler = registry.handlerFor(api, header.apiVersion());
        if (api == ApiKeys.API_VERSIONS && (parsed.body() == null || handler == null)) {
            // a client newer than us: answer in v0 with the error and our versions, so it can retry lower
            RequestHeader v0 = new RequestHeader(header.apiKey(), (short) 0, header.correlationId(), header.clientId(),
                (short) 1);
            sink.respond(new ByteBufferSend(MessageCodec.serializeResponse(v0,
                registry.apiVersionsResponse(Errors.UNSUPPORTED_VERSION))));
            return;
        }
        if (handler == null || parsed.body() == null) {
            log.warn("closing connection {} from {}: unsupported API key {} version {}", connectionId, clientAddress,
                header.apiKey(), header.apiVersion());
            sink.closeConnection();
            return;
        }
        RequestContext ctx = new RequestContext(header, api, sink, request, connectionId, clientAddress);
        try {
            handler.handle(ctx, parsed.body());
        } catch (RuntimeException e) {
            Errors error = Errors.forException(e);
            log.error("{} v{} from {} ({}) failed; answering {}", api.apiName(), header.apiVersion(), connectionId,
                clientAddress, error, e);
            answerWithError(ctx, handler, parsed.body(), error);
        }
    }

    /**
     * Answers {@code ctx} with {@code error} on every item of its request, unless it was already
     * answered; closes the connection only if even the error response cannot be built.
     */
    static void answerWithError(RequestContext ctx, ApiHandler handler, ApiMessage body, Errors error) {
        if (ctx.isAnswered()) {
            return;
        }
        try {
            ApiMessage response = handler.errorResponse(ctx.header(), body, error);
            if (response == null) {
                ctx.noResponse();
            } else {
                ctx.respond(response);
            }
        } catch (RuntimeException e) {
            log.error("{} v{} from {}: cannot send the {} response; closing the connection", ctx.api().apiName(),
                ctx.apiVersion(), ctx.connectionId(), error, e);
            ctx.closeConnection();
        }
    }
}
