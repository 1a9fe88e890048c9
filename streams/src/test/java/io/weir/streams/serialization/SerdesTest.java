package io.weir.streams.serialization;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SerdesTest {

    private static <T> T roundTrip(Serde<T> serde, T value) {
        return serde.deserializer().deserialize("t", serde.serializer().serialize("t", value));
    }

    @Test
    void shouldRoundTripEveryBuiltInType() {
        assertEquals("héllo", roundTrip(Serdes.String(), "héllo"));
        assertEquals(Long.MIN_VALUE, roundTrip(Serdes.Long(), Long.MIN_VALUE));
        assertEquals(-7, roundTrip(Serdes.Integer(), -7));
        assertEquals(3.25, roundTrip(Serdes.Double(), 3.25));
        assertArrayEquals(new byte[] {1, 2}, roundTrip(Serdes.ByteArray(), new byte[] {1, 2}));
        UUID id = UUID.randomUUID();
        assertEquals(id, roundTrip(Serdes.UUID(), id));
        assertNull(roundTrip(Serdes.Void(), null));
        assertNull(roundTrip(Serdes.Long(), null));
    }

    @Test
    void shouldWriteTheSameBytesAsKafka() {
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 1, 2}, Serdes.Long().serializer().serialize("t", 258L));
        assertArrayEquals(new byte[] {0, 0, 1, 2}, Serdes.Integer().serializer().serialize("t", 258));
        // IEEE 754 bits of 1.0 big-endian
        assertArrayEquals(new byte[] {0x3f, (byte) 0xf0, 0, 0, 0, 0, 0, 0}, Serdes.Double().serializer().serialize("t", 1.0));
    }

    @Test
    void shouldRejectBytesOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> Serdes.Double().deserializer().deserialize("t", new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> Serdes.Void().deserializer().deserialize("t", new byte[1]));
    }
}
