package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class InMemoryBytesStoreTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> keys(BytesIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(e -> out.add(new String(e.key(), StandardCharsets.UTF_8) + "=" + new String(e.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Test
    void uncommittedWritesAreVisibleToReadsButNotToCommittedReadsUntilCommit() {
        InMemoryBytesStore store = new InMemoryBytesStore("s");
        store.put(b("a"), b("1"));
        store.put(b("b"), b("2"));
        store.commit(Map.of(new TopicPartition("in", 0), 10L));
        store.put(b("a"), b("9"));
        store.delete(b("b"));
        store.put(b("c"), b("3"));

        assertArrayEquals(b("9"), store.get(b("a")));
        assertNull(store.get(b("b")));
        assertEquals(List.of("a=9", "c=3"), keys(store.all()));
        assertEquals(List.of("a=1", "b=2"), keys(store.rangeCommitted(null, null)));
        assertArrayEquals(b("2"), store.getCommitted(b("b")));

        store.commit(Map.of(new TopicPartition("in", 0), 20L));
        assertEquals(List.of("a=9", "c=3"), keys(store.rangeCommitted(null, null)));
        assertEquals(Map.of(new TopicPartition("in", 0), 20L), store.committedOffsets());
        assertEquals(0, store.uncommittedBytes());
    }

    @Test
    void abortDiscardsUncommittedWrites() {
        InMemoryBytesStore store = new InMemoryBytesStore("s");
        store.put(b("a"), b("1"));
        store.commit(Map.of());
        store.put(b("a"), b("2"));
        store.put(b("b"), b("2"));
        store.abort();
        assertEquals(List.of("a=1"), keys(store.all()));
    }

    @Test
    void rangeBoundsAreInclusiveAndOrderedUnsigned() {
        InMemoryBytesStore store = new InMemoryBytesStore("s");
        store.put(new byte[] {(byte) 0xff}, b("hi"));
        store.put(b("b"), b("2"));
        store.commit(Map.of());
        store.put(b("a"), b("1"));
        store.put(b("c"), b("3"));
        assertEquals(List.of("a=1", "b=2"), keys(store.range(b("a"), b("b"))));
        List<byte[]> all = new ArrayList<>();
        store.all().forEachRemaining(e -> all.add(e.key()));
        assertArrayEquals(new byte[] {(byte) 0xff}, all.get(all.size() - 1));
    }
}
