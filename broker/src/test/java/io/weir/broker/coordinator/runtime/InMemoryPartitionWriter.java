package io.weir.broker.coordinator.runtime;

import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link PartitionWriter} and {@link CoordinatorLoader} over lists in memory, for tests: appends can
 * be made to fail, and commits can be held back and released by the test. Thread-safe.
 */
public final class InMemoryPartitionWriter implements PartitionWriter, CoordinatorLoader {
    /**
     * One stored record: a data record (of a transaction when {@code producerId} is not -1), or a
     * transaction marker ({@code marker} is COMMIT or ABORT, key and value null).
     */
    public record Entry(long offset, ByteBuffer key, ByteBuffer value, long producerId, short producerEpoch,
                        String marker) {
        Entry(long offset, ByteBuffer key, ByteBuffer value) {
            this(offset, key, value, -1, (short) -1, null);
        }
    }

    private final Map<TopicPartition, List<Entry>> logs = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private final Map<TopicPartition, List<Listener>> listeners = new HashMap<>();
    private boolean autoCommit = true;
    private Errors failAppends;
    private int appends;

    /** While false, appended records stay uncommitted until {@link #commitUpTo}. */
    public synchronized void autoCommit(boolean on) {
        autoCommit = on;
    }

    /** Makes every append fail with {@code error} (null: appends succeed again). */
    public synchronized void failAppends(Errors error) {
        failAppends = error;
    }

    public synchronized List<Entry> log(TopicPartition tp) {
        return List.copyOf(logs.getOrDefault(tp, List.of()));
    }

    public synchronized int appends() {
        return appends;
    }

    public synchronized long endOffset(TopicPartition tp) {
        return logs.getOrDefault(tp, List.of()).size();
    }

    /** Commits the partition's records below {@code offset} and tells the listeners. */
    public void commitUpTo(TopicPartition tp, long offset) {
        List<Listener> toTell;
        synchronized (this) {
            committed.merge(tp, offset, Math::max);
            toTell = List.copyOf(listeners.getOrDefault(tp, List.of()));
        }
        toTell.forEach(l -> l.onCommitted(tp, offset));
    }

    @Override
    public synchronized void registerListener(TopicPartition tp, Listener listener) {
        listeners.computeIfAbsent(tp, k -> new CopyOnWriteArrayList<>()).add(listener);
    }

    @Override
    public synchronized void deregisterListener(TopicPartition tp, Listener listener) {
        listeners.getOrDefault(tp, new ArrayList<>()).remove(listener);
    }

    @Override
    public long append(TopicPartition tp, long timestampMs, List<SerializedRecord> records) {
        long base;
        boolean commit;
        synchronized (this) {
            if (failAppends != null) {
                throw new CoordinatorException.AppendFailed(failAppends, "append failed (test)");
            }
            appends++;
            List<Entry> log = logs.computeIfAbsent(tp, k -> new ArrayList<>());
            base = log.size();
            for (SerializedRecord r : records) {
                log.add(new Entry(log.size(), copy(r.key()), copy(r.value())));
            }
            commit = autoCommit;
        }
        if (commit) {
            commitUpTo(tp, base + records.size());
        }
        return base;
    }

    @Override
    public long appendTransactional(TopicPartition tp, long timestampMs, long producerId, short producerEpoch,
                                    List<SerializedRecord> records) {
        long base;
        boolean commit;
        synchronized (this) {
            if (failAppends != null) {
                throw new CoordinatorException.AppendFailed(failAppends, "append failed (test)");
            }
            appends++;
            List<Entry> log = logs.computeIfAbsent(tp, k -> new ArrayList<>());
            base = log.size();
            for (SerializedRecord r : records) {
                log.add(new Entry(log.size(), copy(r.key()), copy(r.value()), producerId, producerEpoch, null));
            }
            commit = autoCommit;
        }
        if (commit) {
            commitUpTo(tp, base + records.size());
        }
        return base;
    }

    @Override
    public long appendEndMarker(TopicPartition tp, long timestampMs, long producerId, short producerEpoch,
                                int coordinatorEpoch, boolean commitTxn) {
        long offset;
        boolean commit;
        synchronized (this) {
            if (failAppends != null) {
                throw new CoordinatorException.AppendFailed(failAppends, "append failed (test)");
            }
            appends++;
            List<Entry> log = logs.computeIfAbsent(tp, k -> new ArrayList<>());
            offset = log.size();
            log.add(new Entry(offset, null, null, producerId, producerEpoch, commitTxn ? "COMMIT" : "ABORT"));
            commit = autoCommit;
        }
        if (commit) {
            commitUpTo(tp, offset + 1);
        }
        return offset;
    }

    @Override
    public long load(TopicPartition tp, RecordSink sink) {
        List<Entry> entries;
        long end;
        synchronized (this) {
            end = committed.getOrDefault(tp, 0L);
            entries = List.copyOf(logs.getOrDefault(tp, List.of()));
        }
        for (Entry e : entries) {
            if (e.offset() >= end) {
                continue;
            }
            if (e.marker() != null) {
                sink.endMarker(e.offset(), e.producerId(), e.producerEpoch(), e.marker().equals("COMMIT"));
            } else {
                sink.accept(e.offset(), e.producerId(), e.producerEpoch(), e.key().duplicate(),
                    e.value() == null ? null : e.value().duplicate());
            }
        }
        return end;
    }

    private static ByteBuffer copy(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        ByteBuffer out = ByteBuffer.allocate(b.remaining());
        out.put(b.duplicate()).flip();
        return out.asReadOnlyBuffer();
    }
}
