package io.weir.streams.state;

import io.weir.streams.kstream.Windowed;
import io.weir.streams.processor.StateStore;

/** A store of one value per key and session; writes are transactional and changelogged like other stores. */
public interface SessionStore<K, V> extends StateStore, ReadOnlySessionStore<K, V> {

    /** Writes the session's value; null removes it. */
    void put(Windowed<K> session, V value);

    void remove(Windowed<K> session);
}
