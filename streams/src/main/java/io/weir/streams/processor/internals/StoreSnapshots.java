package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import io.weir.common.config.ConfigException;
import io.weir.streams.StreamsConfig;
import io.weir.streams.processor.StateStore;
import io.weir.streams.processor.TaskId;
import io.weir.streams.state.internals.RocksDbBytesStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Store snapshots for a new host or a lost disk ({@code state.snapshot.dir}, {@code state.snapshot.interval.ms}):
 * the one owner of the snapshot directory's layout,
 * {@code <state.snapshot.dir>/<application.id>/<task>/<store>/<changelog offset, 20 digits>}.
 *
 * <p>Publishing: after a commit, an active task whose last snapshot is at least an interval old writes a
 * snapshot of each persistent store ({@link RocksDbBytesStore#checkpoint}: the committed state only, tagged
 * with its offsets, built under a temporary name and renamed into place), then prunes that store's older
 * snapshots down to the newest {@value #SNAPSHOTS_KEPT}. A store whose changelog offset has not moved since
 * its last snapshot is skipped. A failed snapshot is logged and never fails the task.
 *
 * <p>Bootstrapping: before a task opens its stores, each logged store without local state gets the newest
 * snapshot that passes every check (its descriptor reads, its RocksDB checkpoint opens at the descriptor's
 * offsets, every block's checksum matches, its changelog offset is within the changelog's current bounds);
 * a snapshot that fails one is skipped with a log line saying why, and the next older one is tried. With no
 * usable snapshot the store starts empty and is restored from the whole changelog. The runtime then replays
 * only the changelog after the store's committed offset, which is the snapshot's.
 *
 * <p>Threads: one instance per stream thread, used by that thread only ({@link #publishedCount} excepted). Several threads and instances may
 * share the directory: a snapshot appears by an atomic rename, and pruning renames a snapshot away before
 * deleting it, so a reader sees whole snapshots or fails on a vanished one (and falls back).
 */
public final class StoreSnapshots {
    private static final Logger log = LoggerFactory.getLogger(StoreSnapshots.class);

    /** Snapshots kept per store: the newest, and one older to fall back to if the newest is damaged. */
    public static final int SNAPSHOTS_KEPT = 2;
    private static final int OFFSET_DIGITS = 20;

    private final Path root;
    private final long intervalMs;
    /** When each active task last published (or was first seen), by task. */
    private final Map<TaskId, Long> lastPublishedMs = new HashMap<>();
    /** Written by the owning thread, read by metrics from any thread. */
    private volatile long published;

    private StoreSnapshots(Path root, long intervalMs) {
        this.root = root;
        this.intervalMs = intervalMs;
    }

    /** The job's snapshot settings, or null when {@code state.snapshot.dir} is not set. */
    public static StoreSnapshots fromConfigs(Map<String, Object> configs, String applicationId) {
        Object dir = configs.get(StreamsConfig.STATE_SNAPSHOT_DIR_CONFIG);
        if (dir == null || dir.toString().isBlank()) {
            return null;
        }
        Object v = configs.get(StreamsConfig.STATE_SNAPSHOT_INTERVAL_MS_CONFIG);
        long interval = StreamsConfig.DEFAULT_STATE_SNAPSHOT_INTERVAL_MS;
        if (v != null) {
            try {
                interval = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw new ConfigException(StreamsConfig.STATE_SNAPSHOT_INTERVAL_MS_CONFIG, v, "is not a number");
            }
            if (interval < 0) {
                throw new ConfigException(StreamsConfig.STATE_SNAPSHOT_INTERVAL_MS_CONFIG, v, "must be at least 0");
            }
        }
        return new StoreSnapshots(Path.of(dir.toString().trim()).resolve(applicationId), interval);
    }

    /** Where the snapshots of one store of one task live. */
    public static Path storeSnapshotsDir(Path snapshotDir, String applicationId, TaskId task, String store) {
        return snapshotDir.resolve(applicationId).resolve(task.toString()).resolve(store);
    }

    /** The published snapshots of a store, newest (highest changelog offset) first. */
    public static List<Path> snapshotsOf(Path storeSnapshotsDir) {
        if (!Files.isDirectory(storeSnapshotsDir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(storeSnapshotsDir)) {
            return entries.filter(p -> isSnapshotName(p.getFileName().toString()))
                .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
                .toList();
        } catch (IOException e) {
            log.warn("Cannot list the store snapshots in {}: {}", storeSnapshotsDir, e.toString());
            return List.of();
        }
    }

    /** Snapshots this thread published since it started. */
    public long publishedCount() {
        return published;
    }

    /**
     * Publishes snapshots of the task's persistent stores if its last ones are an interval old. Call right after
     * the task's stores committed (so each snapshot is exactly a committed state).
     */
    public void maybePublish(StreamTask task, String applicationId, long nowMs) {
        long last = lastPublishedMs.computeIfAbsent(task.id(), id -> nowMs);
        if (nowMs - last < intervalMs) {
            return;
        }
        lastPublishedMs.put(task.id(), nowMs);
        for (Map.Entry<String, StateStore> e : task.stores().entrySet()) {
            if (!(e.getValue() instanceof TransactionalStateStore store) || !store.persistent()) {
                continue;
            }
            TopicPartition changelog = new TopicPartition(ProcessorStateNames.changelogTopic(applicationId, e.getKey()),
                task.id().partition());
            Long offset = store.committedOffsets().get(changelog);
            if (offset == null) {
                continue;   // nothing logged yet
            }
            Path dir = root.resolve(task.id().toString()).resolve(e.getKey());
            Path target = dir.resolve(snapshotName(offset));
            if (Files.exists(target)) {
                continue;   // the changelog did not move since the last snapshot
            }
            try {
                Files.createDirectories(dir);
                if (store.snapshot(target) == null) {
                    continue;
                }
                published++;
                log.debug("Task {}: published snapshot {} of state store '{}'", task.id(), target, e.getKey());
                prune(dir);
            } catch (IOException | RuntimeException ex) {
                log.warn("Task {}: publishing a snapshot of state store '{}' to {} failed: {}", task.id(), e.getKey(),
                    target, ex.toString());
            }
        }
    }

    /** Forgets a task that closed here (its next owner starts its own interval). */
    public void forget(TaskId task) {
        lastPublishedMs.remove(task);
    }

    /**
     * Before a task opens its stores: copies the newest usable snapshot into the state directory of each named
     * store that has no local state there.
     *
     * @param changelogs      the changelog partition of each logged store of the task, by store name
     * @param changelogBounds a changelog partition's beginning and end offsets ({@code [begin, end]})
     * @return the names of the stores that now start from a snapshot
     */
    public Set<String> bootstrap(TaskId task, Path taskStateDir, Map<String, TopicPartition> changelogs,
                                 Function<TopicPartition, long[]> changelogBounds) {
        Set<String> restored = new HashSet<>();
        for (Map.Entry<String, TopicPartition> entry : changelogs.entrySet()) {
            String name = entry.getKey();
            TopicPartition changelog = entry.getValue();
            Path storeDir = RocksDbBytesStore.storeDir(taskStateDir, name);
            if (hasLocalState(storeDir)) {
                continue;
            }
            List<Path> snapshots = snapshotsOf(root.resolve(task.toString()).resolve(name));
            if (snapshots.isEmpty()) {
                continue;
            }
            long[] bounds = null;
            for (Path snapshot : snapshots) {
                String reason;
                try {
                    if (bounds == null) {
                        bounds = changelogBounds.apply(changelog);
                    }
                    reason = tryRestore(name, changelog, snapshot, taskStateDir, bounds);
                } catch (RuntimeException e) {
                    reason = e.toString();
                }
                if (reason == null) {
                    restored.add(name);
                    log.info("Task {}: state store '{}' starts from snapshot {}", task, name, snapshot);
                    break;
                }
                log.warn("Task {}: skipping snapshot {} of state store '{}' because: {}", task, snapshot, name, reason);
                discard(storeDir);
            }
            if (!restored.contains(name)) {
                log.warn("Task {}: no usable snapshot of state store '{}' among {}; it is restored from its whole changelog",
                    task, name, snapshots.size());
            }
        }
        return restored;
    }

    /** Restores one snapshot and checks it; null if the store is ready, else why the snapshot is unusable. */
    private static String tryRestore(String name, TopicPartition changelog, Path snapshot, Path taskStateDir,
                                     long[] changelogBounds) {
        Map<TopicPartition, Long> at = RocksDbBytesStore.readSnapshotOffsets(snapshot);
        long offset = changelogOffset(snapshot);
        if (offset > changelogBounds[1]) {
            return "its changelog offset " + offset + " is past the changelog's end " + changelogBounds[1]
                + " (a snapshot of an earlier changelog topic)";
        }
        if (offset < changelogBounds[0]) {
            return "its changelog offset " + offset + " is before the changelog's start " + changelogBounds[0];
        }
        if (!Long.valueOf(offset).equals(at.get(changelog))) {
            return "its descriptor says changelog " + changelog.dirName() + " is at " + at.get(changelog)
                + ", not at " + offset + " as its name says";
        }
        try (RocksDbBytesStore store = RocksDbBytesStore.openFromSnapshot(name, snapshot, taskStateDir)) {
            store.verifyChecksums();
        }
        return null;
    }

    private static boolean hasLocalState(Path storeDir) {
        if (!Files.isDirectory(storeDir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(storeDir)) {
            return entries.findAny().isPresent();
        } catch (IOException e) {
            return true;   // leave it to the store's own open, which says what is wrong
        }
    }

    private static void discard(Path storeDir) {
        deleteRecursively(storeDir);
        deleteRecursively(storeDir.resolveSibling(storeDir.getFileName() + ".restoring"));
    }

    /** Keeps the newest {@value #SNAPSHOTS_KEPT} snapshots of a store; older ones are renamed away, then deleted. */
    private static void prune(Path storeSnapshotsDir) {
        List<Path> all = snapshotsOf(storeSnapshotsDir);
        for (Path old : all.subList(Math.min(SNAPSHOTS_KEPT, all.size()), all.size())) {
            Path doomed = old.resolveSibling(old.getFileName() + ".deleting");
            try {
                try {
                    Files.move(old, doomed, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(old, doomed);
                }
                deleteRecursively(doomed);
            } catch (IOException | UncheckedIOException e) {
                log.debug("Pruning snapshot {} failed (another instance may have pruned it): {}", old, e.toString());
            }
        }
    }

    static String snapshotName(long changelogOffset) {
        String digits = Long.toString(changelogOffset);
        return "0".repeat(Math.max(0, OFFSET_DIGITS - digits.length())) + digits;
    }

    private static boolean isSnapshotName(String name) {
        return name.length() == OFFSET_DIGITS && name.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static long changelogOffset(Path snapshot) {
        return Long.parseLong(snapshot.getFileName().toString());
    }

    private static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            List<Path> all = new ArrayList<>(walk.toList());
            all.sort(Comparator.reverseOrder());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
