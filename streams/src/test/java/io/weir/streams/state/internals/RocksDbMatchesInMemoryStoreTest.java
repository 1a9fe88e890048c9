package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Property-style: random operation sequences (seeded, bounded) run against the RocksDB engine and the
 * in-memory engine must give identical answers — key order with 0x00/0xFF bytes and empty keys,
 * inclusive and null bounds, uncommitted visibility, abort, offsets. A RocksDB reopen is compared with an
 * in-memory abort (both keep exactly the committed state). A failure names the seed and the step.
 */
class RocksDbMatchesInMemoryStoreTest {

    private static final int SEQUENCES = 8;
    private static final int STEPS = 300;
    private static final byte[] ALPHABET = {0x00, 0x01, 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF};

    private Path root;

    @BeforeEach
    void setUp() {
        root = TempDirs.create("rocks-vs-memory");
    }

    @AfterEach
    void tearDown() {
        TempDirs.delete(root);
    }

    @Test
    void shouldAnswerLikeTheInMemoryEngineOnRandomOperationSequences() {
        long baseSeed = Long.getLong("weir.test.seed", 20261128L);
        for (int sequence = 0; sequence < SEQUENCES; sequence++) {
            runSequence(baseSeed + sequence, root.resolve("seq-" + sequence));
        }
    }

    private static byte[] randomKey(Random random) {
        byte[] key = new byte[random.nextInt(4)]; // 0..3 bytes, the empty key included
        for (int i = 0; i < key.length; i++) {
            key[i] = ALPHABET[random.nextInt(ALPHABET.length)];
        }
        return key;
    }

    private static byte[] randomBound(Random random) {
        return random.nextInt(5) == 0 ? null : randomKey(random);
    }

    private static List<String> dump(BytesIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(e -> out.add(HexFormat.of().formatHex(e.key()) + "=" + HexFormat.of().formatHex(e.value())));
        }
        return out;
    }

    private static String hex(byte[] bytes) {
        return bytes == null ? "null" : HexFormat.of().formatHex(bytes);
    }

    private void runSequence(long seed, Path dir) {
        Random random = new Random(seed);
        InMemoryBytesStore model = new InMemoryBytesStore("s");
        RocksDbBytesStore rocks = RocksDbBytesStore.open("s", dir);
        long offset = 0;
        try {
            for (int step = 0; step < STEPS; step++) {
                String where = "seed " + seed + " step " + step;
                int op = random.nextInt(100);
                if (op < 44) {
                    byte[] key = randomKey(random);
                    byte[] value = random.nextInt(6) == 0 ? null : new byte[] {(byte) step, (byte) (step >> 8)};
                    model.put(key, value);
                    rocks.put(key, value);
                } else if (op < 60) {
                    byte[] key = randomKey(random);
                    assertEquals(hex(model.get(key)), hex(rocks.get(key)), where + " get " + hex(key));
                    assertEquals(hex(model.getCommitted(key)), hex(rocks.getCommitted(key)), where + " getCommitted " + hex(key));
                } else if (op < 78) {
                    byte[] from = randomBound(random);
                    byte[] to = randomBound(random);
                    String what = where + " range " + hex(from) + ".." + hex(to);
                    assertEquals(dump(model.range(from, to)), dump(rocks.range(from, to)), what);
                    assertEquals(dump(model.rangeCommitted(from, to)), dump(rocks.rangeCommitted(from, to)), what + " committed");
                } else if (op < 85) {
                    Map<TopicPartition, Long> offsets = Map.of(new TopicPartition("in", random.nextInt(2)), ++offset);
                    model.commit(offsets);
                    rocks.commit(offsets);
                    assertEquals(model.committedOffsets(), rocks.committedOffsets(), where + " offsets");
                    assertEquals(0, rocks.uncommittedBytes(), where);
                } else if (op < 92) {
                    model.abort();
                    rocks.abort();
                } else if (op < 94) {
                    model.abort(); // a reopen keeps exactly the committed state
                    rocks.close();
                    rocks = RocksDbBytesStore.open("s", dir);
                    assertEquals(model.committedOffsets(), rocks.committedOffsets(), where + " offsets after reopen");
                } else {
                    assertEquals(dump(model.all()), dump(rocks.all()), where + " all");
                }
            }
            assertEquals(dump(model.all()), dump(rocks.all()), "seed " + seed + " at the end");
        } finally {
            rocks.close();
        }
    }
}
