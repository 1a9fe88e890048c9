package io.weir.protocol;

import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile lengths in request bodies: every declared length is checked against the input that
 * remains before anything is allocated, array counts and tagged-field counts are capped, and each
 * failure is a {@link ProtocolDecodeException} (never an OutOfMemoryError, which would kill the
 * request-handler thread that decodes it).
 */
class BoundedDecodingTest {

    /** A request frame (no size prefix): header v1 or v2 for {@code api}/{@code version}, then {@code body}. */
    private static ByteBuffer frame(ApiKeys api, short version, ByteBuffer body) {
        RequestHeader header = RequestHeader.of(api, version, 7, "hostile");
        ByteBuffer b = ByteBuffer.allocate(header.size() + body.remaining());
        header.write(new ProtocolWriter(b));
        b.put(body);
        return b.flip();
    }

    @Test
    void shouldRejectJoinGroupMetadataDeclaringTwoGigabytesBeforeAllocating() {
        ByteBuffer body = ByteBuffer.allocate(64);
        ProtocolWriter w = new ProtocolWriter(body);
        w.writeString("group", false);          // groupId
        w.writeInt32(10_000);                   // sessionTimeoutMs
        w.writeString("", false);               // memberId
        w.writeString("consumer", false);       // protocolType
        w.writeArrayLength(1, false);           // protocols
        w.writeString("range", false);          //   name
        w.writeInt32(0x7fffffff);               //   metadata: declares 2 GiB ...
        body.put(new byte[] {1, 2, 3, 4});      //   ... and brings four bytes
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(frame(ApiKeys.JOIN_GROUP, (short) 0, body.flip())));
        assertEquals("metadata", e.field());
    }

    @Test
    void shouldRejectCompactBytesWhoseLengthWrapsPastIntegerMaxValue() {
        // SyncGroup v4 (flexible): an assignment whose compact length varint is 2^31, i.e. length 2^31 - 1
        ByteBuffer body = ByteBuffer.allocate(64);
        ProtocolWriter w = new ProtocolWriter(body);
        w.writeString("group", true);           // groupId
        w.writeInt32(1);                        // generationId
        w.writeString("m", true);               // memberId
        w.writeString(null, true);              // groupInstanceId
        w.writeArrayLength(1, true);            // assignments
        w.writeString("m", true);               //   memberId
        body.put(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08}); // assignment length+1 = 2^31
        body.put(new byte[] {0, 0});
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(frame(ApiKeys.SYNC_GROUP, (short) 4, body.flip())));
        assertEquals("assignment", e.field());
    }

    @Test
    void shouldRejectStringLongerThanTheInput() {
        // a compact string whose length varint is 2^31 (so 2^31 - 1 bytes), and a classic one of 32767 bytes
        ByteBuffer compact = ByteBuffer.wrap(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08, 'x'});
        assertThrows(ProtocolDecodeException.class, () -> new ProtocolReader(compact).readString("s", true, true));
        ByteBuffer body = ByteBuffer.allocate(8).putShort(Short.MAX_VALUE).put(new byte[] {'g', 'r'}).flip();
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(frame(ApiKeys.HEARTBEAT, (short) 0, body)));
        assertEquals("groupId", e.field());
    }

    @Test
    void shouldRejectArraysOfMoreThanAMillionElementsEvenWhenTheBytesArePresent() {
        // Metadata v1: 1,000,001 topic names, each an empty string (2 bytes): the input does hold them
        int n = 1_000_000 + 1;
        ByteBuffer body = ByteBuffer.allocate(4 + 2 * n).putInt(n);
        body.put(new byte[2 * n]).flip();
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(frame(ApiKeys.METADATA, (short) 1, body)));
        assertEquals("topics", e.field());
        assertTrue(e.getMessage().contains("limit"), e.getMessage());

        ByteBuffer atLimit = ByteBuffer.allocate(4 + 2 * (n - 1)).putInt(n - 1);
        atLimit.put(new byte[2 * (n - 1)]).flip();
        MessageCodec.parseRequest(frame(ApiKeys.METADATA, (short) 1, atLimit)); // a million is still fine
    }

    @Test
    void shouldRejectArraysWhoseElementsCannotFitTheRemainingBytes() {
        // JoinGroup v0 protocols: each element is at least a 2-byte name and a 4-byte metadata length,
        // so 10 elements cannot fit in the 40 bytes that follow
        ByteBuffer body = ByteBuffer.allocate(64);
        ProtocolWriter w = new ProtocolWriter(body);
        w.writeString("g", false);
        w.writeInt32(10_000);
        w.writeString("", false);
        w.writeString("consumer", false);
        w.writeArrayLength(10, false);
        body.put(new byte[40]);
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(frame(ApiKeys.JOIN_GROUP, (short) 0, body.flip())));
        assertEquals("protocols", e.field());
    }

    @Test
    void shouldRejectMoreThanTenThousandTaggedFields() {
        // ApiVersions v3: two empty compact strings, then 10,001 unknown (empty) tagged fields
        int n = 10_000 + 1;
        ByteBuffer body = ByteBuffer.allocate(16 + 4 * n);
        ProtocolWriter w = new ProtocolWriter(body);
        w.writeString("lib", true);
        w.writeString("1", true);
        w.writeUnsignedVarint(n);
        for (int i = 0; i < n; i++) {
            w.writeUnsignedVarint(100 + i);
            w.writeUnsignedVarint(0);
        }
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(frame(ApiKeys.API_VERSIONS, (short) 3, body.flip())));
        assertEquals("taggedFieldCount", e.field());
    }

    @Test
    void shouldRejectTaggedFieldCountsTheInputCannotHold() {
        ByteBuffer header = ByteBuffer.allocate(32);
        new RequestHeader(ApiKeys.API_VERSIONS.id(), (short) 3, 1, "c", (short) 1).write(new ProtocolWriter(header));
        new ProtocolWriter(header).writeUnsignedVarint(5_000); // header tagged fields: 5,000 in 0 bytes
        header.flip();
        ProtocolDecodeException e = assertThrows(ProtocolDecodeException.class,
            () -> MessageCodec.parseRequest(header));
        assertEquals("header tagged field count", e.field());
    }
}
