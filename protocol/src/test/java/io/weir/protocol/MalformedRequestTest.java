package io.weir.protocol;

import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.MetadataRequest;
import org.apache.kafka.common.protocol.types.Schema;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What the codec does with requests that are not exactly well formed: bytes after a well-formed body
 * are ignored (as Kafka does), short bodies are still errors, and a request whose header parsed gets
 * an INVALID_REQUEST response wherever its API's response has a top-level error code.
 */
class MalformedRequestTest {

    private static ByteBuffer frameWithTrailing(RequestHeader header, io.weir.protocol.ApiMessage body, int extra) {
        ByteBuffer b = ByteBuffer.allocate(header.size() + body.size(header.apiVersion()) + extra);
        ProtocolWriter w = new ProtocolWriter(b);
        header.write(w);
        body.write(w, header.apiVersion());
        b.put(new byte[extra]);
        return b.flip();
    }

    @Test
    void shouldIgnoreBytesAfterAWellFormedBody() {
        // librdkafka 2.15's "all topics" Metadata v13 carries three extra zero bytes
        RequestHeader header = RequestHeader.of(ApiKeys.METADATA, (short) 13, 3, "rdkafka");
        MetadataRequest body = new MetadataRequest().setTopics(null).setAllowAutoTopicCreation(false);
        MessageCodec.ParsedRequest parsed = MessageCodec.parseRequest(frameWithTrailing(header, body, 3));
        assertEquals(header, parsed.header());
        assertEquals(body, parsed.body());
    }

    @Test
    void shouldStillRejectShortBodies() {
        RequestHeader header = RequestHeader.of(ApiKeys.METADATA, (short) 13, 3, "c");
        MetadataRequest body = new MetadataRequest().setTopics(List.of(new MetadataRequest.MetadataRequestTopic()
            .setName("orders")));
        ByteBuffer whole = frameWithTrailing(header, body, 0);
        ByteBuffer shortened = whole.duplicate().limit(whole.limit() - 1);
        assertThrows(ProtocolDecodeException.class, () -> MessageCodec.parseRequest(shortened));
    }

    @Test
    void shouldBuildAnInvalidRequestResponseExactlyWhereKafkasResponseHasATopLevelErrorCode() {
        for (ApiKeys api : ApiKeys.values()) {
            if (!KafkaRandomMessages.inKafkaClients(api)) {
                continue; // ZooKeeper-era inter-broker API: compat-tests-kafka3 checks it
            }
            Class<?> kafkaResponse = KafkaRandomMessages.dataClass(api.apiName(), false);
            for (short v = api.lowestVersion(); v <= api.highestVersion(); v++) {
                String what = api.apiName() + " v" + v;
                RequestHeader header = RequestHeader.of(api, v, 77, "c");
                io.weir.protocol.ApiMessage response = MessageCodec.errorResponse(header, Errors.INVALID_REQUEST);
                Schema schema = KafkaRandomMessages.schema(kafkaResponse, v);
                if (schema.get("error_code") == null) {
                    assertNull(response, what);
                    continue;
                }
                assertNotNull(response, what);
                ByteBuffer frame = MessageCodec.serializeResponse(header, response);
                frame.position(4);
                ByteBuffer body = frame.slice();
                MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(api, v, body.duplicate());
                assertEquals(77, parsed.correlationId(), what);
                // Kafka reads the same bytes (after the response header) and sees error code 42
                int headerBytes = ResponseHeader.size(api.responseHeaderVersion(v));
                org.apache.kafka.common.protocol.ApiMessage kafka = KafkaRandomMessages.kafkaRead(kafkaResponse,
                    body.position(headerBytes).slice(), v);
                assertEquals(Errors.INVALID_REQUEST.code(), ((Number) invoke(kafka, "errorCode")).shortValue(), what);
            }
        }
    }

    @Test
    void shouldAnswerAMalformedBodyWhoseHeaderParsedWithInvalidRequest() {
        // JoinGroup v5: header fine, body cut short inside the group id
        RequestHeader header = RequestHeader.of(ApiKeys.JOIN_GROUP, (short) 5, 12, "c");
        ByteBuffer b = ByteBuffer.allocate(header.size() + 3);
        ProtocolWriter w = new ProtocolWriter(b);
        header.write(w);
        b.putShort((short) 40).put((byte) 'g');
        b.flip();
        assertThrows(ProtocolDecodeException.class, () -> MessageCodec.parseRequest(b.duplicate()));
        ByteBuffer answer = MessageCodec.invalidRequestResponse(b.duplicate(), api -> true);
        assertNotNull(answer);
        assertEquals(answer.remaining() - 4, answer.getInt(0));
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(ApiKeys.JOIN_GROUP, (short) 5,
            answer.position(4).slice());
        assertEquals(12, parsed.correlationId());
        assertEquals(Errors.INVALID_REQUEST.code(),
            ((io.weir.protocol.message.JoinGroupResponse) parsed.body()).errorCode());

        // Produce has no top-level error code: no answer, the connection closes
        RequestHeader produce = RequestHeader.of(ApiKeys.PRODUCE, (short) 9, 13, "c");
        ByteBuffer p = ByteBuffer.allocate(produce.size() + 1);
        produce.write(new ProtocolWriter(p));
        p.put((byte) 1).flip();
        assertNull(MessageCodec.invalidRequestResponse(p, api -> true));
        // nor is there one when the header itself is cut short
        assertNull(MessageCodec.invalidRequestResponse(ByteBuffer.wrap(new byte[] {0, 11, 0}), api -> true));
        // nor for an API the caller does not serve
        assertNull(MessageCodec.invalidRequestResponse(b.duplicate(), api -> api != ApiKeys.JOIN_GROUP));
    }

    @Test
    void shouldNeverLetAnythingButADecodeExceptionEscapeOnRandomMutations() {
        Random random = new Random(15);
        for (ApiKeys api : ApiKeys.values()) {
            if (!KafkaRandomMessages.inKafkaClients(api)) {
                continue; // ZooKeeper-era inter-broker API: compat-tests-kafka3 checks it
            }
            for (short v = api.lowestVersion(); v <= api.highestVersion(); v++) {
                ByteBuffer body = KafkaRandomMessages.randomCanonical(api.apiName(), true, v, random);
                RequestHeader header = RequestHeader.of(api, v, 1, "c");
                ByteBuffer valid = ByteBuffer.allocate(header.size() + body.remaining());
                header.write(new ProtocolWriter(valid));
                valid.put(body).flip();
                for (int i = 0; i < 50; i++) {
                    byte[] mutant = new byte[valid.remaining()];
                    valid.duplicate().get(mutant);
                    int flips = 1 + random.nextInt(4);
                    for (int f = 0; f < flips && mutant.length > 0; f++) {
                        int at = random.nextInt(mutant.length);
                        mutant[at] = random.nextInt(3) == 0 ? (byte) 0xff : (byte) random.nextInt(256);
                    }
                    try {
                        MessageCodec.parseRequest(ByteBuffer.wrap(mutant));
                    } catch (ProtocolDecodeException expected) {
                        MessageCodec.invalidRequestResponse(ByteBuffer.wrap(mutant), a -> true);
                    }
                }
            }
        }
    }

    private static Object invoke(Object target, String method) {
        try {
            return target.getClass().getMethod(method).invoke(target);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
