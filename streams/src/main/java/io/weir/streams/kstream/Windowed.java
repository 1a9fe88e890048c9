package io.weir.streams.kstream;

import java.util.Objects;

/** The key of a windowed aggregate: the record key and its window. Immutable. */
public final class Windowed<K> {
    private final K key;
    private final Window window;

    public Windowed(K key, Window window) {
        this.key = key;
        this.window = Objects.requireNonNull(window, "window");
    }

    public K key() {
        return key;
    }

    public Window window() {
        return window;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Windowed<?> w && Objects.equals(key, w.key) && window.equals(w.window);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, window);
    }

    @Override
    public String toString() {
        return "[" + key + "@" + window.start() + "/" + window.end() + "]";
    }
}
