package io.weir.streams.state.internals;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Decodes a {@link BytesIterator}'s entries into typed entries (window or session entries), skipping those
 * the decoder maps to null. Holds the underlying iterator's resources until closed.
 */
public final class SchemaIterator<T> implements Iterator<T>, AutoCloseable {
    private final BytesIterator inner;
    private final Function<BytesIterator.Entry, T> decoder;
    private T next;

    SchemaIterator(BytesIterator inner, Function<BytesIterator.Entry, T> decoder) {
        this.inner = inner;
        this.decoder = decoder;
    }

    @Override
    public boolean hasNext() {
        while (next == null && inner.hasNext()) {
            next = decoder.apply(inner.next());
        }
        return next != null;
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        T result = next;
        next = null;
        return result;
    }

    @Override
    public void close() {
        inner.close();
    }
}
