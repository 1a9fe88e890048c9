package io.weir.streams.state.internals;

import java.util.Iterator;

/** An iterator over a store's entries that holds resources (a RocksDB iterator) until closed. */
public interface BytesIterator extends Iterator<BytesIterator.Entry>, AutoCloseable {

    /** One key and its value. */
    record Entry(byte[] key, byte[] value) { }

    @Override
    void close();
}
