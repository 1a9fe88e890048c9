package io.weir.protocol;

import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.internals.Sizes;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.FetchResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.ProduceRequest;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtocolBasicsTest {

    private static ByteBuffer kafkaBytes(org.apache.kafka.common.protocol.Message m, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer b = ByteBuffer.allocate(m.size(cache, version));
        m.write(new ByteBufferAccessor(b), cache, version);
        return b.flip();
    }

    @Test
    void shouldMatchKafkaErrorCodesNamesAndRetriability() {
        for (Errors e : Errors.values()) {
            org.apache.kafka.common.protocol.Errors k = org.apache.kafka.common.protocol.Errors.forCode(e.code());
            assertEquals(k.name(), e.name(), "code " + e.code());
            boolean kafkaRetriable = k.exception() instanceof RetriableException;
            assertEquals(kafkaRetriable, e.isRetriable(), e.name());
            assertEquals(e, Errors.forCode(e.code()));
        }
        assertEquals(Errors.UNKNOWN_SERVER_ERROR, Errors.forCode((short) 30000));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, Errors.forException(Errors.NOT_LEADER_OR_FOLLOWER.exception()));
        assertEquals(Errors.INVALID_REQUEST, Errors.forException(new ProtocolDecodeException("x", 0, "bad")));
        assertEquals(Errors.UNKNOWN_SERVER_ERROR, Errors.forException(new IllegalStateException()));
    }

    @Test
    void shouldMapExceptionsByWalkingTheirClassHierarchy() {
        assertEquals(Errors.CORRUPT_MESSAGE, Errors.forException(new io.weir.common.record.CorruptRecordException("bad crc")));
        // a subclass nobody registered inherits its parent's code
        assertEquals(Errors.CORRUPT_MESSAGE, Errors.forException(new io.weir.common.record.CorruptRecordException("torn") { }));
        assertEquals(Errors.MESSAGE_TOO_LARGE, Errors.forException(new io.weir.common.record.RecordTooLargeException("big")));
        assertEquals(Errors.UNKNOWN_SERVER_ERROR, Errors.forException(new RuntimeException(
            Errors.NOT_LEADER_OR_FOLLOWER.exception())));
        assertEquals(Errors.UNKNOWN_SERVER_ERROR, Errors.forException(null));
    }

    @Test
    void shouldUseKafkasHeaderVersionsAndStayWithinKafkasRanges() {
        for (ApiKeys api : ApiKeys.values()) {
            if (!KafkaRandomMessages.inKafkaClients(api)) {
                continue; // ZooKeeper-era inter-broker API: compat-tests-kafka3 checks it
            }
            org.apache.kafka.common.protocol.ApiKeys k = org.apache.kafka.common.protocol.ApiKeys.forId(api.id());
            assertEquals(k.name, api.apiName());
            assertTrue(api.lowestVersion() >= k.oldestVersion() && api.highestVersion() <= k.latestVersion(true), api.name());
            for (short v = api.lowestVersion(); v <= api.highestVersion(); v++) {
                assertEquals(k.requestHeaderVersion(v), api.requestHeaderVersion(v), api + " v" + v);
                assertEquals(k.responseHeaderVersion(v), api.responseHeaderVersion(v), api + " v" + v);
            }
        }
        assertNull(ApiKeys.forId((short) 999));
        assertEquals(ApiKeys.API_VERSIONS, ApiKeys.forId((short) 18));
    }

    @Test
    void shouldEncodeHeadersLikeKafka() {
        for (short hv = 1; hv <= 2; hv++) {
            for (String clientId : new String[] {null, "", "weir-client"}) {
                RequestHeaderData k = new RequestHeaderData().setRequestApiKey((short) 3).setRequestApiVersion((short) 12)
                    .setCorrelationId(77).setClientId(clientId);
                RequestHeader h = new RequestHeader((short) 3, (short) 12, 77, clientId, hv);
                ByteBuffer b = ByteBuffer.allocate(h.size());
                h.write(new ProtocolWriter(b));
                assertEquals(kafkaBytes(k, hv), b.flip());
            }
        }
        for (short hv = 0; hv <= 1; hv++) {
            ByteBuffer b = ByteBuffer.allocate(ResponseHeader.size(hv));
            ResponseHeader.write(new ProtocolWriter(b), 1234, hv);
            assertEquals(kafkaBytes(new ResponseHeaderData().setCorrelationId(1234), hv), b.flip());
        }
    }

    @Test
    void shouldParseRequestFrameAndWriteResponseWithTheRightHeader() {
        ProduceRequest produce = new ProduceRequest().setAcks((short) -1).setTimeoutMs(30000)
            .setTopicData(List.of(new ProduceRequest.TopicProduceData().setName("t")
                .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(0)
                    .setRecords(Records.wrap(ByteBuffer.wrap(new byte[] {1, 2, 3})))))));
        ByteBuffer frame = MessageCodec.serializeRequest(RequestHeader.of(ApiKeys.PRODUCE, (short) 9, 5, "c"), produce);
        assertEquals(frame.remaining() - 4, frame.getInt(0));
        MessageCodec.ParsedRequest parsed = MessageCodec.parseRequest(frame.position(4).slice());
        assertEquals(2, parsed.header().headerVersion());
        assertEquals(produce, parsed.body());

        // ApiVersions v3 is flexible but its response header stays v0
        RequestHeader av = RequestHeader.of(ApiKeys.API_VERSIONS, (short) 3, 9, "c");
        ApiVersionsResponse resp = new ApiVersionsResponse().setApiKeys(List.of(
            new ApiVersionsResponse.ApiVersion().setApiKey((short) 0).setMinVersion((short) 3).setMaxVersion((short) 11)));
        ByteBuffer out = MessageCodec.serializeResponse(av, resp);
        assertEquals(4 + MessageCodec.responseSize(av, resp), out.remaining());
        MessageCodec.ParsedResponse pr = MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 3, out.position(4).slice());
        assertEquals(9, pr.correlationId());
        assertEquals(resp, pr.body());
    }

    @Test
    void shouldLeaveBodyUnparsedForUnsupportedVersions() {
        ByteBuffer b = ByteBuffer.allocate(64);
        new RequestHeader((short) 18, (short) 99, 1, "future", (short) 1).write(new ProtocolWriter(b));
        b.put(new byte[] {9, 9, 9}).flip();
        MessageCodec.ParsedRequest parsed = MessageCodec.parseRequest(b);
        assertNull(parsed.body());
        assertEquals(99, parsed.header().apiVersion());
    }

    @Test
    void shouldSkipUnknownTaggedFields() {
        ByteBuffer b = ByteBuffer.allocate(32);
        ProtocolWriter w = new ProtocolWriter(b);
        w.writeString("lib", true);
        w.writeString("1.0", true);
        w.writeUnsignedVarint(2);       // two tagged fields, neither known
        w.writeUnsignedVarint(99);
        w.writeUnsignedVarint(3);
        b.put(new byte[] {7, 7, 7});
        w.writeUnsignedVarint(300);
        w.writeUnsignedVarint(0);
        b.flip();
        ProtocolReader r = new ProtocolReader(b);
        ApiVersionsRequest req = ApiVersionsRequest.read(r, (short) 3);
        assertEquals("lib", req.clientSoftwareName());
        assertEquals("1.0", req.clientSoftwareVersion());
        assertEquals(0, r.remaining());
    }

    @Test
    void shouldRejectHostileLengthsWithTypedErrors() {
        // Metadata v1: topics array count of Integer.MAX_VALUE in a tiny buffer
        ByteBuffer huge = ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(0).flip();
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MetadataRequest.read(new ProtocolReader(huge), (short) 1));
        assertEquals("topics", e.field());
        // negative count other than -1
        ByteBuffer negative = ByteBuffer.allocate(4).putInt(-7).flip();
        assertThrows(ProtocolDecodeException.class, () -> MetadataRequest.read(new ProtocolReader(negative), (short) 1));
        // null array where v0 forbids it
        ByteBuffer nullV0 = ByteBuffer.allocate(4).putInt(-1).flip();
        assertThrows(ProtocolDecodeException.class, () -> MetadataRequest.read(new ProtocolReader(nullV0), (short) 0));
        // string length beyond the input
        ByteBuffer longString = ByteBuffer.allocate(6).putInt(1).putShort((short) 30000).flip();
        e = assertThrows(ProtocolDecodeException.class, () -> MetadataRequest.read(new ProtocolReader(longString), (short) 1));
        assertEquals("name", e.field());
        assertEquals(4, e.position());
        // a compact length near 2^32 and a varint that never ends
        ByteBuffer bigVarint = ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f});
        assertThrows(ProtocolDecodeException.class, () -> new ProtocolReader(bigVarint).readString("s", true, true));
        ByteBuffer endless = ByteBuffer.wrap(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 1});
        assertThrows(ProtocolDecodeException.class, () -> new ProtocolReader(endless).readUnsignedVarint("v"));
    }

    @Test
    void shouldRoundTripVarintsAndReportTheirSizes() {
        Random random = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            int v = i < 100 ? i - 50 : random.nextInt() >> random.nextInt(32);
            long l = random.nextLong() >> random.nextInt(64);
            ByteBuffer b = ByteBuffer.allocate(32);
            ProtocolWriter w = new ProtocolWriter(b);
            w.writeVarint(v);
            w.writeVarlong(l);
            w.writeUnsignedVarint(v);
            assertEquals(Sizes.varint(v) + Sizes.varlong(l) + Sizes.unsignedVarint(v), b.position());
            ProtocolReader r = new ProtocolReader(b.flip());
            assertEquals(v, r.readVarint("v"));
            assertEquals(l, r.readVarlong("l"));
            assertEquals(v, r.readUnsignedVarint("u"));
        }
    }

    @Test
    void shouldReturnRecordsAsAnUncopiedSlice() {
        ByteBuffer b = ByteBuffer.allocate(8).putInt(3).put(new byte[] {5, 6, 7}).flip();
        ByteBuffer records = new ProtocolReader(b).readRecords("records", false, true).buffer();
        assertEquals(3, records.remaining());
        b.put(5, (byte) 42);
        assertEquals(42, records.get(1)); // shares the frame's memory
    }

    @Test
    void shouldRejectBadFrameSizesBeforeAllocating() throws Exception {
        FrameReader reader = new FrameReader(1024);
        ReadableByteChannel negative = Channels.newChannel(new ByteArrayInputStream(new byte[] {(byte) 0xff, 0, 0, 0}));
        assertThrows(ProtocolDecodeException.class, () -> reader.read(negative));
        FrameReader reader2 = new FrameReader(1024);
        ReadableByteChannel tooBig = Channels.newChannel(new ByteArrayInputStream(new byte[] {0x7f, 0, 0, 0}));
        assertThrows(ProtocolDecodeException.class, () -> reader2.read(tooBig));

        FrameReader ok = new FrameReader(1024);
        ReadableByteChannel good = Channels.newChannel(new ByteArrayInputStream(new byte[] {0, 0, 0, 2, 9, 8}));
        ByteBuffer frame = ok.read(good);
        assertNotNull(frame);
        byte[] got = new byte[2];
        frame.get(got);
        assertArrayEquals(new byte[] {9, 8}, got);
    }

    @Test
    void shouldSpliceSendableRecordsIntoAResponseWithoutCopyingThem() throws java.io.IOException {
        byte[] fileBytes = {9, 8, 7, 6, 5};
        Records.Sendable sendable = new Records.Sendable() {
            @Override
            public int sizeInBytes() {
                return fileBytes.length;
            }

            @Override
            public long writeTo(java.nio.channels.WritableByteChannel ch, long offset, long length) throws java.io.IOException {
                return ch.write(ByteBuffer.wrap(fileBytes, (int) offset, (int) Math.min(length, fileBytes.length - offset)));
            }
        };
        FetchResponse spliced = fetchWith(sendable);
        FetchResponse inMemory = fetchWith(Records.wrap(ByteBuffer.wrap(fileBytes)));
        RequestHeader h = RequestHeader.of(ApiKeys.FETCH, (short) 12, 77, "c");
        MessageCodec.SplicedFrame frame = MessageCodec.serializeResponseSpliced(h, spliced, fileBytes.length);
        assertEquals(1, frame.splices().size());
        assertEquals(frame.buffer().remaining() + fileBytes.length, frame.sizeInBytes());
        // stitch the pieces together the way the broker's network layer does
        java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
        java.nio.channels.WritableByteChannel ch = java.nio.channels.Channels.newChannel(wire);
        int at = frame.splices().get(0).position();
        ch.write(frame.buffer().duplicate().limit(at));
        frame.splices().get(0).records().writeTo(ch, 0, fileBytes.length);
        ch.write(frame.buffer().duplicate().position(at));
        assertEquals(MessageCodec.serializeResponse(h, inMemory), ByteBuffer.wrap(wire.toByteArray()));
        assertThrows(IllegalStateException.class, () -> MessageCodec.serializeResponse(h, spliced));
    }

    private static FetchResponse fetchWith(Records records) {
        return new FetchResponse().setResponses(List.of(new FetchResponse.FetchableTopicResponse().setTopic("t")
            .setPartitions(List.of(new FetchResponse.PartitionData().setPartitionIndex(0).setHighWatermark(5)
                .setRecords(records)))));
    }
}
