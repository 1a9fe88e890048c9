package io.weir.producer.internals;

/**
 * The 32-bit murmur2 hash in the variant Apache Kafka's clients use for key partitioning (seed
 * 0x9747b28c, little-endian 4-byte blocks, tail bytes folded high to low), so that a key lands on
 * the same partition whichever client wrote it. Stateless.
 */
public final class Murmur2 {
    private static final int SEED = 0x9747b28c;
    private static final int M = 0x5bd1e995;
    private static final int R = 24;

    private Murmur2() {
    }

    public static int hash(byte[] data) {
        int length = data.length;
        int h = SEED ^ length;
        int blocks = length >>> 2;
        for (int i = 0; i < blocks; i++) {
            int o = i << 2;
            int k = (data[o] & 0xff) | (data[o + 1] & 0xff) << 8 | (data[o + 2] & 0xff) << 16 | (data[o + 3] & 0xff) << 24;
            k *= M;
            k ^= k >>> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = length & ~3;
        switch (length & 3) {
            case 3:
                h ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                h ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                h ^= data[tail] & 0xff;
                h *= M;
                break;
            default:
                break;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }

    /** Clears the sign bit (not {@code Math.abs}, which stays negative for MIN_VALUE). */
    public static int toPositive(int n) {
        return n & 0x7fffffff;
    }

    /** The partition of a keyed record: murmur2 of the key bytes, made positive, modulo the count. */
    public static int partitionForKey(byte[] keyBytes, int numPartitions) {
        return toPositive(hash(keyBytes)) % numPartitions;
    }
}
