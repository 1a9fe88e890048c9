package io.weir.streams.processor.internals;

import io.weir.streams.state.Bytes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The thread's record cache: its byte budget, least-recently-used eviction from the store being written, drains. */
class ThreadCacheTest {
    private static final ProcessorRecordContext CONTEXT = new ProcessorRecordContext("t", 0, 0, 0, List.of());

    private static Bytes key(String k) {
        return Bytes.wrap(k.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] value(String v) {
        return v.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> keys(List<ThreadCache.Entry> entries) {
        List<String> out = new ArrayList<>();
        entries.forEach(e -> out.add(new String(e.key().get(), StandardCharsets.UTF_8)));
        return out;
    }

    /** The budget of n entries of a one-byte key and a one-byte value. */
    private static long entries(int n) {
        return n * (2 + ThreadCache.ENTRY_OVERHEAD_BYTES);
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedEntryWhenOverBudget() {
        ThreadCache cache = new ThreadCache(entries(2));
        List<ThreadCache.Entry> evicted = new ArrayList<>();
        ThreadCache.NamedCache store = cache.newCache("0_0/s", evicted::add);
        store.put(key("a"), value("1"), CONTEXT);
        store.put(key("b"), value("1"), CONTEXT);
        assertTrue(evicted.isEmpty());
        store.put(key("a"), value("2"), CONTEXT);   // a replaced: now the most recently used, size unchanged
        assertTrue(evicted.isEmpty());
        store.put(key("c"), value("1"), CONTEXT);
        assertEquals(List.of("b"), keys(evicted));
        assertEquals(null, store.get(key("b")));
        store.get(key("a"));   // a read makes a the most recently used
        store.put(key("d"), value("1"), CONTEXT);
        assertEquals(List.of("b", "c"), keys(evicted));
        assertEquals(entries(2), cache.sizeBytes());
        assertEquals(List.of("a", "d"), keys(store.drain()));
        assertEquals(0, cache.sizeBytes());
        assertTrue(store.isEmpty());
    }

    @Test
    void shouldShareTheBudgetAndEvictFromTheStoreBeingWritten() {
        ThreadCache cache = new ThreadCache(entries(3));
        List<ThreadCache.Entry> evictedOne = new ArrayList<>();
        List<ThreadCache.Entry> evictedTwo = new ArrayList<>();
        ThreadCache.NamedCache one = cache.newCache("0_0/s", evictedOne::add);
        ThreadCache.NamedCache two = cache.newCache("0_1/s", evictedTwo::add);
        one.put(key("a"), value("1"), CONTEXT);
        one.put(key("b"), value("1"), CONTEXT);
        two.put(key("x"), value("1"), CONTEXT);
        two.put(key("y"), value("1"), CONTEXT);
        assertTrue(evictedOne.isEmpty());
        assertEquals(List.of("x"), keys(evictedTwo));
        one.clear();
        assertEquals(entries(1), cache.sizeBytes(), "a closed store's entries leave the budget");
    }

    @Test
    void shouldWriteEveryUpdateThroughWithAZeroBudget() {
        ThreadCache cache = new ThreadCache(0);
        List<ThreadCache.Entry> evicted = new ArrayList<>();
        ThreadCache.NamedCache store = cache.newCache("0_0/s", evicted::add);
        store.put(key("a"), value("1"), CONTEXT);
        store.put(key("a"), null, CONTEXT);
        assertEquals(2, evicted.size());
        assertNull(evicted.get(1).value(), "a delete is handed on as a null value");
        assertTrue(store.isEmpty());
    }

    @Test
    void shouldListARangeInKeyOrder() {
        ThreadCache.NamedCache store = new ThreadCache(entries(10)).newCache("0_0/s", e -> { });
        for (String k : List.of("d", "a", "c", "b", "e")) {
            store.put(key(k), value("1"), CONTEXT);
        }
        assertEquals(List.of("b", "c", "d"), keys(store.range(value("b"), value("d"))));
        assertEquals(List.of("a", "b", "c", "d", "e"), keys(store.range(null, null)));
    }
}
