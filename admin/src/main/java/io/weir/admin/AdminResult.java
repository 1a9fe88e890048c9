package io.weir.admin;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The result of an Admin call on several items (topics, resources): one future per item, so one
 * failed topic does not hide the others, and {@link #all()} for "all or the first failure".
 * Futures fail with an {@link io.weir.protocol.ApiException} subtype from {@code io.weir.admin.errors}
 * (e.g. {@link io.weir.admin.errors.TopicExistsException}) or with
 * {@link io.weir.protocol.client.TimeoutException}. Futures complete on the client's I/O thread:
 * do not block in callbacks attached to them.
 */
public final class AdminResult<K, V> {
    private final Map<K, CompletableFuture<V>> values;

    public AdminResult(Map<K, CompletableFuture<V>> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** One future per item, in request order. */
    public Map<K, CompletableFuture<V>> values() {
        return values;
    }

    /** The future of one item, or null if it was not requested. */
    public CompletableFuture<V> value(K key) {
        return values.get(key);
    }

    /** Completes with every item's value once all succeed; fails with the first item's failure otherwise. */
    public CompletableFuture<Map<K, V>> all() {
        return CompletableFuture.allOf(values.values().toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            Map<K, V> out = new LinkedHashMap<>();
            values.forEach((k, f) -> out.put(k, f.join()));
            return out;
        });
    }
}
