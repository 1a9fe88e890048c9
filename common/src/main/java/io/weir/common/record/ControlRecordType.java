package io.weir.common.record;

import java.nio.ByteBuffer;

/**
 * The type of a control record (transaction marker). A control record's key is
 * {@code version: int16 (0), type: int16}; its value is {@code version: int16 (0), coordinatorEpoch: int32}.
 */
public enum ControlRecordType {
    ABORT((short) 0),
    COMMIT((short) 1),
    UNKNOWN((short) -1);

    public static final int KEY_SIZE = 4;
    public static final int VALUE_SIZE = 6;

    public final short type;

    ControlRecordType(short type) {
        this.type = type;
    }

    /** Parses a control record key; an unknown type (a newer marker) is {@link #UNKNOWN}, not an error. */
    public static ControlRecordType parse(ByteBuffer key) {
        if (key == null || key.remaining() < KEY_SIZE) {
            throw new CorruptRecordException("control record key must hold at least " + KEY_SIZE + " bytes");
        }
        short version = key.getShort(key.position());
        if (version < 0) {
            throw new CorruptRecordException("control record key has negative version " + version);
        }
        short type = key.getShort(key.position() + 2);
        switch (type) {
            case 0:
                return ABORT;
            case 1:
                return COMMIT;
            default:
                return UNKNOWN;
        }
    }

    public ByteBuffer keyBytes() {
        ByteBuffer b = ByteBuffer.allocate(KEY_SIZE);
        b.putShort(0, (short) 0);
        b.putShort(2, type);
        return b;
    }

    /** The marker value: version 0 and the coordinator epoch. */
    public static ByteBuffer valueBytes(int coordinatorEpoch) {
        ByteBuffer b = ByteBuffer.allocate(VALUE_SIZE);
        b.putShort(0, (short) 0);
        b.putInt(2, coordinatorEpoch);
        return b;
    }

    /** Reads the coordinator epoch from a marker value. */
    public static int coordinatorEpoch(ByteBuffer value) {
        if (value == null || value.remaining() < VALUE_SIZE) {
            throw new CorruptRecordException("control record value must hold " + VALUE_SIZE + " bytes");
        }
        return value.getInt(value.position() + 2);
    }
}
