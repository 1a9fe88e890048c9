package io.weir.streams.state;

import io.weir.streams.kstream.Windowed;

/** Reads of a session store: a key's sessions, oldest end first. Sessions past retention are gone. */
public interface ReadOnlySessionStore<K, V> {

    /** The key's sessions with {@code end >= earliestSessionEndMs} and {@code start <= latestSessionStartMs}. */
    KeyValueIterator<Windowed<K>, V> findSessions(K key, long earliestSessionEndMs, long latestSessionStartMs);

    /** Every retained session of the key. */
    KeyValueIterator<Windowed<K>, V> fetch(K key);

    /** The value of exactly that session, or null. */
    V fetchSession(K key, long sessionStartMs, long sessionEndMs);
}
