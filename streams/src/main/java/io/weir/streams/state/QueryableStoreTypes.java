package io.weir.streams.state;

import io.weir.streams.KeyValue;
import io.weir.streams.errors.InvalidStateStoreException;
import io.weir.streams.kstream.Windowed;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.internals.TransactionalKeyValueStore;
import io.weir.streams.processor.internals.TransactionalWindowStore;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The views interactive queries give: {@link #keyValueStore()} and {@link #windowStore()}. A view reads the
 * COMMITTED state (what the last exactly-once commit applied, never a transaction in flight) of every local
 * active task's store of its name, through the stores' thread-safe committed reads. A key lives in one task,
 * so {@code get} asks each task's store; ranges and {@code all} concatenate the tasks' iterators (ordered within
 * a task). A store closed under a query (its task migrated) fails with {@link InvalidStateStoreException}.
 */
public final class QueryableStoreTypes {
    private QueryableStoreTypes() {
    }

    /** Read-only key-value queries: get, range, all, approximateNumEntries. */
    public static <K, V> QueryableStoreType<ReadOnlyKeyValueStore<K, V>> keyValueStore() {
        return new QueryableStoreType<>() {
            @Override
            public boolean accepts(StateStore store) {
                return store instanceof TransactionalKeyValueStore<?, ?>;
            }

            @Override
            public ReadOnlyKeyValueStore<K, V> create(Supplier<List<StateStore>> stores, String storeName) {
                return new CompositeKeyValue<>(() -> views(stores, storeName, this,
                    s -> QueryableStoreTypes.<K, V>kv(s).committedView()), storeName);
            }
        };
    }

    /** Read-only window queries: fetch of a key's window or time range, fetchAll, all. */
    public static <K, V> QueryableStoreType<ReadOnlyWindowStore<K, V>> windowStore() {
        return new QueryableStoreType<>() {
            @Override
            public boolean accepts(StateStore store) {
                return store instanceof TransactionalWindowStore<?, ?>;
            }

            @Override
            public ReadOnlyWindowStore<K, V> create(Supplier<List<StateStore>> stores, String storeName) {
                return new CompositeWindow<>(() -> views(stores, storeName, this,
                    s -> QueryableStoreTypes.<K, V>window(s).committedView()), storeName);
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static <K, V> TransactionalKeyValueStore<K, V> kv(StateStore s) {
        return (TransactionalKeyValueStore<K, V>) s;
    }

    @SuppressWarnings("unchecked")
    private static <K, V> TransactionalWindowStore<K, V> window(StateStore s) {
        return (TransactionalWindowStore<K, V>) s;
    }

    private static <T> List<T> views(Supplier<List<StateStore>> stores, String storeName, QueryableStoreType<?> type,
                                     Function<StateStore, T> view) {
        List<T> out = new ArrayList<>();
        for (StateStore s : stores.get()) {
            if (!type.accepts(s)) {
                throw new InvalidStateStoreException("the store " + storeName + " is a " + s.getClass().getSimpleName()
                    + ", not of the queried type");
            }
            try {
                out.add(view.apply(s));
            } catch (IllegalStateException e) {
                throw migrated(storeName, e);
            }
        }
        return out;
    }

    private static InvalidStateStoreException migrated(String storeName, RuntimeException cause) {
        return new InvalidStateStoreException("the store " + storeName + " was closed (its task may have migrated to"
            + " another instance); look its host up again and retry", cause);
    }

    /** Runs a read, turning a store closed under it into {@link InvalidStateStoreException}. */
    private static <T> T guarded(String storeName, Supplier<T> read) {
        try {
            return read.get();
        } catch (IllegalStateException e) {
            throw migrated(storeName, e);
        }
    }

    private static final class CompositeKeyValue<K, V> implements ReadOnlyKeyValueStore<K, V> {
        private final Supplier<List<ReadOnlyKeyValueStore<K, V>>> stores;
        private final String name;

        CompositeKeyValue(Supplier<List<ReadOnlyKeyValueStore<K, V>>> stores, String name) {
            this.stores = stores;
            this.name = name;
        }

        @Override
        public V get(K key) {
            if (key == null) {
                throw new NullPointerException("key cannot be null");
            }
            return guarded(name, () -> {
                for (ReadOnlyKeyValueStore<K, V> s : stores.get()) {
                    V v = s.get(key);
                    if (v != null) {
                        return v;
                    }
                }
                return null;
            });
        }

        @Override
        public KeyValueIterator<K, V> range(K from, K to) {
            List<ReadOnlyKeyValueStore<K, V>> list = stores.get();
            return new Concat<>(name, list.stream().<Supplier<KeyValueIterator<K, V>>>map(s -> () -> s.range(from, to)).toList());
        }

        @Override
        public KeyValueIterator<K, V> all() {
            List<ReadOnlyKeyValueStore<K, V>> list = stores.get();
            return new Concat<>(name, list.stream().<Supplier<KeyValueIterator<K, V>>>map(s -> s::all).toList());
        }

        @Override
        public long approximateNumEntries() {
            return guarded(name, () -> {
                long n = 0;
                for (ReadOnlyKeyValueStore<K, V> s : stores.get()) {
                    n += s.approximateNumEntries();
                }
                return n;
            });
        }
    }

    private static final class CompositeWindow<K, V> implements ReadOnlyWindowStore<K, V> {
        private final Supplier<List<ReadOnlyWindowStore<K, V>>> stores;
        private final String name;

        CompositeWindow(Supplier<List<ReadOnlyWindowStore<K, V>>> stores, String name) {
            this.stores = stores;
            this.name = name;
        }

        @Override
        public V fetch(K key, long windowStartMs) {
            return guarded(name, () -> {
                for (ReadOnlyWindowStore<K, V> s : stores.get()) {
                    V v = s.fetch(key, windowStartMs);
                    if (v != null) {
                        return v;
                    }
                }
                return null;
            });
        }

        @Override
        public WindowStoreIterator<V> fetch(K key, long timeFromMs, long timeToMs) {
            // a key lives in one task: the first task with any window of it answers
            return guarded(name, () -> {
                List<ReadOnlyWindowStore<K, V>> list = stores.get();
                for (ReadOnlyWindowStore<K, V> s : list) {
                    WindowStoreIterator<V> it = s.fetch(key, timeFromMs, timeToMs);
                    if (it.hasNext()) {
                        return it;
                    }
                    it.close();
                }
                return new EmptyWindowIterator<>();
            });
        }

        @Override
        public KeyValueIterator<Windowed<K>, V> fetchAll(long timeFromMs, long timeToMs) {
            List<ReadOnlyWindowStore<K, V>> list = stores.get();
            return new Concat<>(name, list.stream()
                .<Supplier<KeyValueIterator<Windowed<K>, V>>>map(s -> () -> s.fetchAll(timeFromMs, timeToMs)).toList());
        }

        @Override
        public KeyValueIterator<Windowed<K>, V> all() {
            List<ReadOnlyWindowStore<K, V>> list = stores.get();
            return new Concat<>(name, list.stream().<Supplier<KeyValueIterator<Windowed<K>, V>>>map(s -> s::all).toList());
        }
    }

    private static final class EmptyWindowIterator<V> implements WindowStoreIterator<V> {
        @Override
        public Long peekNextKey() {
            throw new NoSuchElementException();
        }

        @Override
        public boolean hasNext() {
            return false;
        }

        @Override
        public KeyValue<Long, V> next() {
            throw new NoSuchElementException();
        }

        @Override
        public void close() {
        }
    }

    /** The tasks' iterators one after the other, each opened when reached and closed when done. */
    private static final class Concat<K, V> implements KeyValueIterator<K, V> {
        private final String name;
        private final Iterator<Supplier<KeyValueIterator<K, V>>> sources;
        private KeyValueIterator<K, V> current;

        Concat(String name, List<Supplier<KeyValueIterator<K, V>>> sources) {
            this.name = name;
            this.sources = sources.iterator();
        }

        private KeyValueIterator<K, V> current() {
            return guarded(name, () -> {
                while ((current == null || !current.hasNext()) && sources.hasNext()) {
                    if (current != null) {
                        current.close();
                    }
                    current = sources.next().get();
                }
                return current;
            });
        }

        @Override
        public K peekNextKey() {
            KeyValueIterator<K, V> c = current();
            if (c == null || !c.hasNext()) {
                throw new NoSuchElementException();
            }
            return guarded(name, c::peekNextKey);
        }

        @Override
        public boolean hasNext() {
            KeyValueIterator<K, V> c = current();
            return c != null && guarded(name, c::hasNext);
        }

        @Override
        public KeyValue<K, V> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return guarded(name, current::next);
        }

        @Override
        public void close() {
            if (current != null) {
                current.close();
                current = null;
            }
        }
    }
}
