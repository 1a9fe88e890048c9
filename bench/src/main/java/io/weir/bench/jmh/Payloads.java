package io.weir.bench.jmh;

import java.util.Random;

/** Record payloads for benchmarks: text-like bytes that compress about as well as JSON logs do. */
public final class Payloads {
    private static final String WORDS = "weir stream broker record batch offset partition leader replica commit "
        + "abort producer consumer group topic segment index fetch produce value key header time ";

    private Payloads() {
    }

    public static byte[][] values(int count, int size, Random rnd) {
        byte[][] out = new byte[count][];
        for (int i = 0; i < count; i++) {
            byte[] v = new byte[size];
            for (int j = 0; j < size; j++) {
                v[j] = (byte) (rnd.nextInt(8) == 0 ? '0' + rnd.nextInt(10) : WORDS.charAt(rnd.nextInt(WORDS.length())));
            }
            out[i] = v;
        }
        return out;
    }
}
