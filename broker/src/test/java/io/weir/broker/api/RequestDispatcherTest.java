package io.weir.broker.api;

import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.Records;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dispatcher's one error path, driven without sockets: a sink stands for one connection and
 * records each outcome in order.
 */
class RequestDispatcherTest {
    private static final short PRODUCE_V = 9;

    /** Produce answered by {@code behaviour}; error responses shaped by the real produce handler. */
    private static final class ScriptedProduce implements ApiHandler {
        private final ProduceHandler shapes = new ProduceHandler(null, null);
        private final BiConsumer<RequestContext, ApiMessage> behaviour;

        ScriptedProduce(BiConsumer<RequestContext, ApiMessage> behaviour) {
            this.behaviour = behaviour;
        }

        @Override
        public Map<ApiKeys, VersionRange> apis() {
            return Map.of(ApiKeys.PRODUCE, VersionRange.all(ApiKeys.PRODUCE));
        }

        @Override
        public void handle(RequestContext ctx, ApiMessage body) {
            behaviour.accept(ctx, body);
        }

        @Override
        public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
            return shapes.errorResponse(header, body, error);
        }
    }

    private final CapturingSink connection = new CapturingSink();

    private static RequestDispatcher dispatcher(BiConsumer<RequestContext, ApiMessage> produce) {
        return new RequestDispatcher(ApiHandlerRegistry.builder().register(new ScriptedProduce(produce)).build());
    }

    private static ByteBuffer produceFrame(int correlationId, short acks) {
        RecordBatchBuilder b = new RecordBatchBuilder(CompressionType.NONE);
        b.append(1L, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
        ByteBuffer records = b.build();
        ProduceRequest req = new ProduceRequest().setAcks(acks).setTimeoutMs(1_000).setTopicData(List.of(
            new ProduceRequest.TopicProduceData().setName("t").setPartitionData(List.of(
                new ProduceRequest.PartitionProduceData().setIndex(0).setRecords(Records.wrap(records.duplicate())),
                new ProduceRequest.PartitionProduceData().setIndex(1).setRecords(Records.wrap(records.duplicate()))))));
        return frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.PRODUCE, PRODUCE_V, correlationId, "c"),
            req));
    }

    private static ByteBuffer apiVersionsFrame(int correlationId) {
        return frameOnly(MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.API_VERSIONS, (short) 3, correlationId,
            "c"), new ApiVersionsRequest().setClientSoftwareName("c").setClientSoftwareVersion("1")));
    }

    /** The request bytes without their size prefix, as the network layer hands them over. */
    private static ByteBuffer frameOnly(ByteBuffer sized) {
        ByteBuffer b = sized.duplicate();
        b.position(b.position() + 4);
        return b.slice();
    }

    private static ProduceResponse produceResponse(CapturingSink.Outcome o, int correlationId) {
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.PRODUCE, PRODUCE_V, o.response());
        assertEquals(correlationId, parsed.correlationId());
        return (ProduceResponse) parsed.body();
    }

    private void assertNextRequestServed(RequestDispatcher d, int correlationId) {
        int before = connection.size();
        d.handle(apiVersionsFrame(correlationId), connection, "c1");
        assertEquals(before + 1, connection.size());
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 3,
            connection.last().response());
        assertEquals(correlationId, parsed.correlationId());
        assertEquals(Errors.NONE.code(), ((ApiVersionsResponse) parsed.body()).errorCode());
    }

    @Test
    void shouldAnswerUnknownServerErrorPerPartitionWhenAHandlerThrowsAndKeepServingTheConnection() {
        RequestDispatcher d = dispatcher((ctx, body) -> {
            throw new IllegalStateException("a bug in a handler");
        });
        d.handle(produceFrame(7, (short) 1), connection, "c1");

        assertEquals(1, connection.size());
        ProduceResponse resp = produceResponse(connection.last(), 7);
        List<ProduceResponse.PartitionProduceResponse> parts = resp.responses().get(0).partitionResponses();
        assertEquals(2, parts.size());
        for (ProduceResponse.PartitionProduceResponse p : parts) {
            assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), p.errorCode());
            assertEquals(-1, p.baseOffset());
        }
        assertNextRequestServed(d, 8);
        assertFalse(connection.everClosed());
    }

    @Test
    void shouldAnswerTheCodeAnApiExceptionCarries() {
        RequestDispatcher d = dispatcher((ctx, body) -> {
            throw Errors.NOT_LEADER_OR_FOLLOWER.exception();
        });
        d.handle(produceFrame(7, (short) -1), connection, "c1");
        ProduceResponse resp = produceResponse(connection.last(), 7);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), resp.responses().get(0).partitionResponses().get(0).errorCode());
    }

    @Test
    void shouldSendNothingForAFailedAcksZeroProduce() {
        RequestDispatcher d = dispatcher((ctx, body) -> {
            throw new IllegalStateException("a bug in a handler");
        });
        d.handle(produceFrame(7, (short) 0), connection, "c1");
        assertEquals(1, connection.size());
        assertNull(connection.last().response());
        assertFalse(connection.last().closed());
        assertNextRequestServed(d, 8);
    }

    @Test
    void shouldNotAnswerTwiceWhenAHandlerThrowsAfterAnswering() {
        RequestDispatcher d = dispatcher((ctx, body) -> {
            ctx.respond(new ProduceResponse());
            throw new IllegalStateException("fails after answering");
        });
        d.handle(produceFrame(7, (short) 1), connection, "c1");
        assertEquals(1, connection.size());
        assertTrue(produceResponse(connection.last(), 7).responses().isEmpty(), "the handler's own answer went out");
        assertNextRequestServed(d, 8);
    }

    @Test
    void shouldCloseTheConnectionOnlyForAnUnparsableFrame() {
        RequestDispatcher d = dispatcher((ctx, body) -> ctx.respond(new ProduceResponse()));
        d.handle(ByteBuffer.wrap(new byte[] {0, 0, 0}), connection, "c1");
        assertTrue(connection.last().closed());
    }

    @Test
    void shouldCloseTheConnectionForAnApiNoHandlerDeclares() {
        RequestDispatcher d = new RequestDispatcher(ApiHandlerRegistry.builder().build());
        d.handle(produceFrame(7, (short) 1), connection, "c1");
        assertTrue(connection.last().closed());
    }
}
