#!/usr/bin/env python3
"""Moves what every module needs out of log-core into a new `common/` module (issue 9, section 4).

Usage (from anywhere inside the git work tree to transform):

    python3 dev/split-common.py            # transform the tree (git mv + rewrites), print a summary
    python3 dev/split-common.py --check    # change nothing; exit 1 if the script would change something
    python3 dev/split-common.py --union-import-conflicts   # after a merge, see below

Exit status: 0 done (or nothing to do); 2 when something needs a hand (listed under PROBLEMS; the
rest of the work is done, fix those and re-run); 1 with --check when a run would change something.

What it does, on whatever tree it runs in (so it can be re-run on a newer main):

  * creates common/ (artifact weir-common) with its pom and README, unless they exist;
  * `git mv`s from log-core into common:
      io.weir.log.{Time,TopicPartition}                     -> io.weir.common
      io.weir.log.config.*  (every file, also new ones)     -> io.weir.common.config
      the RecordBatch v2 format, codecs, record exceptions  -> io.weir.common.record
      io.weir.log.internals.Varints                         -> io.weir.common.record
      io.weir.log.internals.{Crc32c,ByteBufferOutputStream,FileUtils} -> io.weir.common.utils (public)
      io.weir.log.OffsetOutOfRangeException                 -> io.weir.common.errors
      test support io.weir.log.testing.{MockTime,TempDirs,Batches} -> io.weir.common.testing (test-jar)
      the broker's scheduler io.weir.broker.coordinator.runtime.{TimerService,SystemTimerService}
                                                            -> io.weir.common.utils
      and its mock MockTimerService (broker tests)          -> io.weir.common.testing
      the record-format tests (RecordBatchTest, RecordBatchProperties, KafkaInteropTest)
    plus any io.weir.log class a moved class needs (e.g. a new RecordError used by
    InvalidRecordException), unless it is a storage class (then it stops with an error);
  * adds io.weir.common.errors.StorageException; log-core's CorruptIndexException extends it, and
    modules that no longer see log-core name StorageException instead (protocol's Errors map);
  * replaces MockTime with one that has separate millisecond/nanosecond bases, auto-tick, an
    auto-advancing sleep and listeners (only if the old one's public methods are all still there),
    and adds MockTimeTest;
  * rewrites package declarations, imports (also static ones) and fully qualified names in every
    .java file of every module (main and test, bench/, tools/, dist/ ...), and adds the imports that
    files of io.weir.log (and moved files) need for classes that used to share their package;
  * rewrites poms: the modules list, dependencyManagement, log-core -> common for protocol,
    producer, consumer and admin, codecs from log-core to common, a direct weir-common dependency
    wherever a module's code uses it, and test-jar dependencies by what each module's tests import;
  * rewrites fully qualified names of moved classes in other text files (scripts, docs, properties)
    and updates the module list in README.md.

Every step checks the current state first, so a second run changes nothing. At the end it checks the
result (no io.weir.log or io.weir.broker in common's code, no io.weir.log in the client modules' main
code) and exits 2 if a check fails, naming the files; imports of another module's `internals` that
it does not fix are listed as warnings.

Two ways to land it:
  * on a newer main: run the script, build, commit (`git add -A`); nothing else.
  * after merging the branch that already applied it, then merging branches written against
    io.weir.log: merge with `git -c merge.directoryRenames=false merge ...` (otherwise git moves new
    files of io/weir/log/testing into common/ by directory-rename detection), then run the script
    with --union-import-conflicts: conflicts that lie only in import lists become the union of both
    sides, which the script then renames and dedupes; other conflicts are listed; `git add` the files.

What it cannot do: change code that uses a moved class's package-private instance members from
log-core (statics named Class.member are made public; anything else shows up as a compile error);
move a class that a moved class needs when it is part of the storage engine (reported); reword prose
beyond the few comments it knows (TEXT_FIXES) and the README module list.
"""

import argparse
import os
import re
import subprocess
import sys

# --------------------------------------------------------------------------------------------------
# What moves where

LOG_MAIN = 'log-core/src/main/java/io/weir/log'
LOG_TEST = 'log-core/src/test/java/io/weir/log'
COMMON_MAIN = 'common/src/main/java/io/weir/common'
COMMON_TEST = 'common/src/test/java/io/weir/common'

RECORD_CLASSES = [
    'CompressionType', 'ControlRecordType', 'CorruptRecordException', 'Header',
    'InvalidRecordException', 'MemoryRecords', 'Record', 'RecordBatch', 'RecordBatchBuilder',
    'RecordTooLargeException', 'TimestampType',
]

# (old package, simple name) -> new package, for single classes
CLASS_MOVES = {}
for _c in ['Time', 'TopicPartition']:
    CLASS_MOVES[('io.weir.log', _c)] = 'io.weir.common'
for _c in RECORD_CLASSES:
    CLASS_MOVES[('io.weir.log', _c)] = 'io.weir.common.record'
CLASS_MOVES[('io.weir.log', 'OffsetOutOfRangeException')] = 'io.weir.common.errors'
CLASS_MOVES[('io.weir.log.internals', 'Varints')] = 'io.weir.common.record'
for _c in ['Crc32c', 'ByteBufferOutputStream', 'FileUtils']:
    CLASS_MOVES[('io.weir.log.internals', _c)] = 'io.weir.common.utils'

# the scheduler the coordinator runtime uses, and its mock, become the shared ones
RUNTIME_PKG = 'io.weir.broker.coordinator.runtime'
CLASS_MOVES[(RUNTIME_PKG, 'TimerService')] = 'io.weir.common.utils'
CLASS_MOVES[(RUNTIME_PKG, 'SystemTimerService')] = 'io.weir.common.utils'

# whole packages: every file, including ones added later
PACKAGE_MOVES = {'io.weir.log.config': 'io.weir.common.config'}

# test classes: (old package, simple name) -> new package (under common/src/test)
TEST_CLASS_MOVES = {
    ('io.weir.log.testing', 'MockTime'): 'io.weir.common.testing',
    ('io.weir.log.testing', 'TempDirs'): 'io.weir.common.testing',
    ('io.weir.log.testing', 'Batches'): 'io.weir.common.testing',
    ('io.weir.log', 'RecordBatchTest'): 'io.weir.common.record',
    ('io.weir.log', 'RecordBatchProperties'): 'io.weir.common.record',
    ('io.weir.log', 'KafkaInteropTest'): 'io.weir.common.record',
    (RUNTIME_PKG, 'MockTimerService'): 'io.weir.common.testing',
}

# comments that name what stays behind, reworded where the class now lives (path, old, new)
TEXT_FIXES = [
    ('protocol/src/main/java/io/weir/protocol/Errors.java',
     "(log-core's storage errors)",
     "(common's record and storage errors)"),
    ('common/src/main/java/io/weir/common/utils/TimerService.java',
     """ * Runs tasks at a time of the injected clock. The runtime uses it to fire every shard's
 * {@link CoordinatorTimer} timeouts; the task it gives only puts an event on a shard's queue, so a
 * task is short and may run on any thread.""",
     """ * Runs tasks at a time of the injected clock: the scheduler for timeouts (the coordinator runtime's
 * shard timers, and anything else that waits on the clock). A task must be short (put an event on a
 * queue) and may run on any thread."""),
]

# the module that holds a package today
SOURCE_MODULES = {'io.weir.log': 'log-core', RUNTIME_PKG: 'broker'}

# packages that lose classes: files left in them may need imports for what used to be beside them
LOG_PACKAGES = {'io.weir.log', 'io.weir.log.internals', 'io.weir.log.testing', 'io.weir.log.config'}
OLD_PACKAGES = LOG_PACKAGES | {RUNTIME_PKG}

# classes of log-core that a moved class must never pull into common (the storage engine)
STORAGE_CLASSES = {
    'Log', 'LogManager', 'LogConfig', 'LogSegment', 'LogCleaner', 'FileRegion', 'FetchDataInfo',
    'LogAppendInfo', 'LogOffsetMetadata', 'AbortedTxn', 'CompletedTxn', 'ProducerAppendCheck',
    'TimestampAndOffset', 'CorruptIndexException', 'ProducerStateManager', 'OffsetIndex',
    'TimeIndex', 'TransactionIndex', 'AbstractIndex', 'CheckpointFile', 'FileBatchReader',
    'MappedBuffers', 'BatchValidator',
}

# modules that must not depend on log-core any more (only on common)
CLIENT_MODULES = ['protocol', 'producer', 'consumer', 'admin']

# names only log-core has, replaced where log-core is no longer visible
CLIENT_REPLACEMENTS = {'io.weir.log.CorruptIndexException': 'io.weir.common.errors.StorageException'}

SKIP_DIRS = {'.git', 'target', 'node_modules', '.idea', '.mvn'}
SELF = 'dev/split-common.py'

# --------------------------------------------------------------------------------------------------
# Files the script writes (only when missing, or for MockTime when it is still the old one)

COMMON_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>io.weir</groupId>
    <artifactId>weir-parent</artifactId>
    <version>0.1.0-SNAPSHOT</version>
  </parent>
  <artifactId>weir-common</artifactId>
  <name>Weir common</name>
  <description>What every module needs: the clock, TopicPartition, config definitions, small utilities,
    and the RecordBatch v2 format with its codecs, which clients and the log both use.</description>

  <dependencies>
    <dependency><groupId>at.yawk.lz4</groupId><artifactId>lz4-java</artifactId></dependency>
    <dependency><groupId>org.xerial.snappy</groupId><artifactId>snappy-java</artifactId></dependency>
    <dependency><groupId>com.github.luben</groupId><artifactId>zstd-jni</artifactId></dependency>
    <dependency><groupId>net.jqwik</groupId><artifactId>jqwik</artifactId><scope>test</scope></dependency>
    <!-- the outside check: the batch format and codecs read and written by Apache's own classes -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><scope>test</scope></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><scope>test</scope></dependency>
  </dependencies>

  <build>
    <plugins>
      <plugin>
        <!-- the one test-support place: MockTime, TempDirs, batch helpers for every module's tests -->
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-jar-plugin</artifactId>
        <executions>
          <execution>
            <goals>
              <goal>test-jar</goal>
            </goals>
          </execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
"""

COMMON_README = """# common

What every Weir module needs, without the storage engine: the clock (`Time`), `TopicPartition`,
config definitions (`io.weir.common.config`), small utilities (`io.weir.common.utils`: CRC32C, a
growable buffer stream, durable file writes, the `TimerService` scheduler), the errors every layer names (`io.weir.common.errors`),
and Kafka's RecordBatch v2 format with its codecs (`io.weir.common.record`). The clients depend on
this module and never on log-core.

The test-jar is the shared test support: `MockTime` (a clock that moves only when the test moves it),
`MockTimerService` (a scheduler that fires due tasks when the test polls it), `TempDirs`, and
`Batches` (record batches for tests).
"""

STORAGE_EXCEPTION = """package io.weir.common.errors;

/**
 * The storage layer failed in a way that is the broker's fault, not the request's (an index that
 * breaks its invariants, a failed disk); answered KAFKA_STORAGE_ERROR. log-core's storage exceptions
 * extend it so that layers which do not depend on log-core (the protocol's error codes) can name them.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
"""

MOCK_TIME = """package io.weir.common.testing;

import io.weir.common.Time;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A clock for tests that moves only when the test moves it ({@link #advance}) or when code under
 * test sleeps ({@link #sleep} advances it at once instead of blocking). Thread-safe.
 *
 * <p>Wall-clock milliseconds and monotonic nanoseconds start from separate bases, as on a real
 * machine, so code that mixes the two clocks fails in tests. Both move together. An optional
 * auto-tick moves the clock by a fixed step on every read, for code that loops until time passes.
 * {@link Listener}s run on the thread that moved the clock, after it moved, so a thread waiting for
 * a deadline on this clock can be woken when a test moves it.
 */
public final class MockTime implements Time {
    /** Told after the clock moved; runs on the thread that moved it and must not block. */
    @FunctionalInterface
    public interface Listener {
        void onTimeUpdated();
    }

    /** Where the wall clock starts unless told otherwise (2023-11-14T22:13:20Z). */
    public static final long DEFAULT_START_MS = 1_700_000_000_000L;
    /** Where the monotonic clock starts unless told otherwise; unrelated to the wall clock. */
    public static final long DEFAULT_START_NS = 42_000_000_000L;

    private final long autoTickMs;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    private long nowMs;
    private long nowNs;

    public MockTime() {
        this(0, DEFAULT_START_MS, DEFAULT_START_NS);
    }

    public MockTime(long startMs) {
        this(0, startMs, DEFAULT_START_NS);
    }

    /**
     * @param autoTickMs how far every read of the clock moves it first (0: never by itself)
     * @param startMs    the first wall-clock reading
     * @param startNs    the first monotonic reading
     */
    public MockTime(long autoTickMs, long startMs, long startNs) {
        if (autoTickMs < 0) {
            throw new IllegalArgumentException("autoTickMs < 0: " + autoTickMs);
        }
        this.autoTickMs = autoTickMs;
        this.nowMs = startMs;
        this.nowNs = startNs;
    }

    @Override
    public long milliseconds() {
        autoTick();
        synchronized (this) {
            return nowMs;
        }
    }

    @Override
    public long nanoseconds() {
        autoTick();
        synchronized (this) {
            return nowNs;
        }
    }

    /** Moves the clock by {@code ms} at once (and tells the listeners); never blocks. */
    @Override
    public void sleep(long ms) {
        advance(ms);
    }

    /** Moves both clocks forward by {@code ms} and then tells the listeners. */
    public void advance(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("time never goes back: " + ms);
        }
        synchronized (this) {
            nowMs += ms;
            nowNs += ms * 1_000_000L;
        }
        for (Listener l : listeners) {
            l.onTimeUpdated();
        }
    }

    /** Moves the clock to {@code ms} on the wall clock (the monotonic clock moves as far). */
    public void setCurrentTimeMs(long ms) {
        long delta;
        synchronized (this) {
            delta = ms - nowMs;
        }
        advance(delta);
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    private void autoTick() {
        if (autoTickMs > 0) {
            advance(autoTickMs);
        }
    }
}
"""

MOCK_TIME_TEST = """package io.weir.common.testing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MockTimeTest {
    @Test
    void wallAndMonotonicClocksHaveSeparateBasesAndMoveTogether() {
        MockTime time = new MockTime(0, 1_000L, 7L);
        assertEquals(1_000L, time.milliseconds());
        assertEquals(7L, time.nanoseconds());
        time.advance(5);
        assertEquals(1_005L, time.milliseconds());
        assertEquals(7L + 5_000_000L, time.nanoseconds());
        MockTime defaults = new MockTime();
        assertNotEquals(defaults.milliseconds() * 1_000_000L, defaults.nanoseconds());
    }

    @Test
    void sleepMovesTheClockAndListenersSeeTheNewTime() {
        MockTime time = new MockTime(100L);
        List<Long> seen = new ArrayList<>();
        MockTime.Listener l = () -> seen.add(time.milliseconds());
        time.addListener(l);
        time.sleep(40);
        time.setCurrentTimeMs(200);
        time.removeListener(l);
        time.advance(1);
        assertEquals(List.of(140L, 200L), seen);
        assertEquals(201L, time.milliseconds());
    }

    @Test
    void autoTickMovesTheClockOnEveryRead() {
        MockTime time = new MockTime(3, 0L, 0L);
        assertEquals(3L, time.milliseconds());
        assertEquals(6_000_000L, time.nanoseconds());
        assertEquals(9L, time.milliseconds());
    }

    @Test
    void timeNeverGoesBack() {
        MockTime time = new MockTime(50L);
        assertThrows(IllegalArgumentException.class, () -> time.advance(-1));
        assertThrows(IllegalArgumentException.class, () -> time.setCurrentTimeMs(49));
        assertEquals(50L, time.milliseconds());
    }
}
"""

README_COMMON_BULLET = """- `common/` — what every module needs: the clock (`Time`), `TopicPartition`, config definitions,
  small utilities, and Kafka RecordBatch v2 (flyweight over a ByteBuffer, builder, zero-copy record
  iteration, control/transaction markers) with codecs in Kafka's framings (gzip, snappy/xerial, lz4
  frame, zstd) checked both ways against kafka-clients. The clients depend on it, never on log-core;
  its test-jar is the shared test support (`MockTime`, `MockTimerService`, `TempDirs`, `Batches`).
"""
README_LOG_OLD = """- `log-core/` — the storage engine. Kafka RecordBatch v2 (flyweight over a ByteBuffer, builder,
  zero-copy record iteration, control/transaction markers), codecs with Kafka's framings (gzip,
  snappy/xerial, lz4 frame, zstd) checked both ways against kafka-clients, segments with"""
README_LOG_NEW = """- `log-core/` — the storage engine, on `common`'s record format: segments with"""
LOG_README_OLD = ('Record batches (Kafka RecordBatch v2), codecs, segment files with indexes, the partition Log, '
                  'crash recovery, producer state, compaction.')
LOG_README_NEW = ('The storage engine: segment files with indexes, the partition Log, crash recovery, producer '
                  'state, compaction. The record format and codecs it stores live in `common/`.')

# --------------------------------------------------------------------------------------------------

changes = []   # what this run changed (for the summary and --check)
problems = []  # what a human must fix before the result builds
warnings = []  # seams this script does not fix (reported, not fatal)
CHECK_ONLY = False


def note(msg):
    changes.append(msg)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def write(path, text, why):
    if os.path.exists(path) and read(path) == text:
        return
    note(why)
    if CHECK_ONLY:
        return
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def git(root, *args):
    return subprocess.run(['git', '-C', root] + list(args), check=True, capture_output=True, text=True).stdout


def tracked(root, path):
    r = subprocess.run(['git', '-C', root, 'ls-files', '--error-unmatch', path], capture_output=True)
    return r.returncode == 0


def move(root, src, dst):
    """git mv src dst (plain rename if untracked); no-op when already moved; error if both exist."""
    s, d = os.path.join(root, src), os.path.join(root, dst)
    if not os.path.exists(s):
        return
    if os.path.exists(d):
        problems.append(f'both {src} and {dst} exist: merge them by hand, then re-run')
        return
    note(f'move {src} -> {dst}')
    if CHECK_ONLY:
        return
    os.makedirs(os.path.dirname(d), exist_ok=True)
    if tracked(root, src):
        git(root, 'mv', src, dst)
    else:
        os.rename(s, d)


def java_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for f in filenames:
            if f.endswith('.java'):
                out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return sorted(out)


def module_of(rel):
    return rel.split(os.sep)[0]


def is_test(rel):
    return '/src/test/' in rel or '/src/it/' in rel


PKG_RE = re.compile(r'^\s*package\s+([\w.]+)\s*;', re.M)


def package_of(text):
    m = PKG_RE.search(text)
    return m.group(1) if m else ''


def top_level_name(rel):
    return os.path.basename(rel)[:-5]


def strip_comments_and_strings(text):
    """Code only: comments, string/char literals and text blocks blanked out (lengths kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            j = n if j < 0 else j + 3
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(' ' * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


DOC_REF_RE = re.compile(r'(?:\{@link(?:plain)?|@see|@throws|@exception)\s+([A-Z]\w*)')


def used_simple_names(text):
    """Capitalised identifiers the code uses unqualified (plus those named in Javadoc links)."""
    code = strip_comments_and_strings(text)
    code = re.sub(r'^\s*(package|import)\b[^;]*;', '', code, flags=re.M)
    names = set(re.findall(r'(?<![\w.$])([A-Z][\w$]*)\b', code))
    names |= set(DOC_REF_RE.findall(text))
    return names


IMPORT_RE = re.compile(r'^import\s+(static\s+)?([\w.]+?)(\.\*)?\s*;[ \t]*$', re.M)


def imports_of(text):
    """(static, name, wildcard) for each import."""
    return [(bool(m.group(1)), m.group(2), bool(m.group(3))) for m in IMPORT_RE.finditer(text)]


# --------------------------------------------------------------------------------------------------
# Steps


def source_module(pkg):
    for prefix, mod in SOURCE_MODULES.items():
        if pkg == prefix or pkg.startswith(prefix + '.'):
            return mod
    raise ValueError(pkg)


def plan_moves(root):
    """[(src, dst, old_pkg, new_pkg)] for what still sits in log-core, with the auto-pulled closure."""
    plan = []
    for (pkg, name), new_pkg in CLASS_MOVES.items():
        src = os.path.join(source_module(pkg), 'src/main/java', pkg.replace('.', '/'), name + '.java')
        dst = os.path.join('common/src/main/java', new_pkg.replace('.', '/'), name + '.java')
        plan.append((src, dst, pkg, new_pkg))
    for pkg, new_pkg in PACKAGE_MOVES.items():
        for base_from, base_to in (('log-core/src/main/java', 'common/src/main/java'),
                                   ('log-core/src/test/java', 'common/src/test/java')):
            d = os.path.join(root, base_from, pkg.replace('.', '/'))
            if os.path.isdir(d):
                for dirpath, _, files in os.walk(d):
                    for f in sorted(files):
                        src = os.path.relpath(os.path.join(dirpath, f), root)
                        rest = os.path.relpath(os.path.join(dirpath, f), d)
                        dst = os.path.join(base_to, new_pkg.replace('.', '/'), rest)
                        plan.append((src, dst, pkg, new_pkg))
    for (pkg, name), new_pkg in TEST_CLASS_MOVES.items():
        src = os.path.join(source_module(pkg), 'src/test/java', pkg.replace('.', '/'), name + '.java')
        dst = os.path.join('common/src/test/java', new_pkg.replace('.', '/'), name + '.java')
        plan.append((src, dst, pkg, new_pkg))

    # closure: a moved main class that uses a class of its old package (no import needed there before)
    # drags that class along into the same new package, unless it is part of the storage engine
    remaining = {}
    for pkg_dir, pkg in ((LOG_MAIN, 'io.weir.log'), (LOG_MAIN + '/internals', 'io.weir.log.internals')):
        d = os.path.join(root, pkg_dir)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.endswith('.java') and f != 'package-info.java':
                    remaining[(pkg, f[:-5])] = os.path.join(pkg_dir, f)
    moving = {(p, os.path.basename(s)[:-5]) for s, _, p, _ in plan if os.path.exists(os.path.join(root, s))}
    queue = [x for x in plan if os.path.exists(os.path.join(root, x[0])) and x[0].startswith('log-core/src/main')]
    # files already in common (a re-run after a merge brought changes to them) count as well: a name
    # they use that is neither imported nor beside them must be a class they left behind in log-core
    base = os.path.join(root, 'common/src/main/java')
    for dirpath, _, fs in os.walk(base):
        for f in sorted(fs):
            if f.endswith('.java'):
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                queue.append((rel, rel, None, path_package(rel)))
    while queue:
        src, dst, pkg, new_pkg = queue.pop()
        text = read(os.path.join(root, src))
        names = used_simple_names(text)
        if pkg is None:   # already in common: drop what it imports or finds beside it
            names -= {n.rpartition('.')[2] for st, n, w in imports_of(text) if not w}
            beside = os.path.dirname(os.path.join(root, src))
            names -= {f[:-5] for f in os.listdir(beside) if f.endswith('.java')}
        for (rpkg, rname), rsrc in sorted(remaining.items()):
            if (pkg is not None and rpkg != pkg) or (rpkg, rname) in moving or rname not in names:
                continue
            if rname in STORAGE_CLASSES:
                problems.append(f'{src} uses the storage class {rpkg}.{rname}: it cannot move to common; '
                                'change it by hand first')
                continue
            item = (rsrc, os.path.join('common/src/main/java', new_pkg.replace('.', '/'), rname + '.java'),
                    rpkg, new_pkg)
            print(f'note: also moving {rpkg}.{rname} -> {new_pkg} (used by {os.path.basename(src)})')
            moving.add((rpkg, rname))
            plan.append(item)
            queue.append(item)
    return plan


def path_package(rel):
    m = re.search(r'/src/[\w-]+/java/(.+)/[^/]+\.java$', rel)
    return m.group(1).replace('/', '.') if m else None


def build_index(root, files):
    """package -> set of top-level class names, over every java file of the tree (the package from
    the directory, so files moved but not yet rewritten count where they now are)."""
    idx = {}
    for rel in files:
        pkg = path_package(rel) or package_of(read(os.path.join(root, rel)))
        idx.setdefault(pkg, set()).add(top_level_name(rel))
    return idx


def resolve_moved(name_fqn, idx):
    """New FQN for an io.weir.log... class FQN that no longer exists there, else None."""
    if not name_fqn.startswith(('io.weir.log.', RUNTIME_PKG + '.')):
        return None
    pkg, _, cls = name_fqn.rpartition('.')
    for (opkg, oname), npkg in CLASS_MOVES.items():
        if opkg == pkg and oname == cls:
            return npkg + '.' + cls
    for (opkg, oname), npkg in TEST_CLASS_MOVES.items():
        if opkg == pkg and oname == cls:
            return npkg + '.' + cls
    for opkg, npkg in PACKAGE_MOVES.items():
        if pkg == opkg:
            return npkg + '.' + cls
    if pkg in LOG_PACKAGES and cls not in idx.get(pkg, set()):
        homes = [p for p, names in idx.items() if p.startswith('io.weir.common') and cls in names]
        if len(homes) == 1:
            return homes[0] + '.' + cls
    return None


FQN_RE = re.compile(r'\b(io\.weir\.log(?:\.[a-z_][\w]*)*|' + re.escape(RUNTIME_PKG) + r')\.([A-Z][\w$]*)')


def rewrite_fqns(text, idx, client):
    """io.weir.log.X (in imports, code, comments, strings) -> the new name where X moved."""
    if client:
        for old, new in CLIENT_REPLACEMENTS.items():
            text = re.sub(re.escape(old) + r'\b', new, text)

    def repl(m):
        pkg = m.group(1)
        new = resolve_moved(pkg + '.' + m.group(2), idx)
        return new if new else m.group(0)
    text = FQN_RE.sub(repl, text)
    for opkg, npkg in PACKAGE_MOVES.items():     # wildcard imports of a moved package
        text = re.sub(r'\b' + re.escape(opkg) + r'\.\*', npkg + '.*', text)
    return text


def import_lines(text):
    return {m.group(0).strip() for m in IMPORT_RE.finditer(text)}


def fix_imports(text, idx, pkg, moved_names, changed):
    """Adds imports for moved classes a file used from its own (old) package, drops imports of the
    file's own package and duplicates, and sorts each run of imports that this script changed."""
    lines = text.split('\n')
    imps = imports_of(text)
    explicit = {n.rpartition('.')[2] for s, n, w in imps if not s and not w}
    wildcards = {n for s, n, w in imps if not s and w}
    own = idx.get(pkg, set())
    wanted = []
    if moved_names:
        used = used_simple_names(text)
        for name, home in sorted(moved_names.items()):
            if home == pkg or name not in used or name in explicit or name in own or home in wildcards:
                continue
            wanted.append(f'import {home}.{name};')
    changed = set(changed) | set(wanted)

    # drop imports of the file's own package and exact duplicates (and a blank line left doubled)
    seen = set()
    out = []
    removed = False
    for line in lines:
        m = IMPORT_RE.match(line)
        if m:
            name = m.group(2)
            if (not m.group(1) and not m.group(3) and name.rpartition('.')[0] == pkg) or line.strip() in seen:
                removed = True
                continue
            seen.add(line.strip())
        out.append(line)
    lines = out
    if removed:
        head_end = next((i for i, l in enumerate(lines)
                         if l.strip() and not PKG_RE.match(l) and not IMPORT_RE.match(l)), len(lines))
        head = [l for i, l in enumerate(lines[:head_end])
                if not (l.strip() == '' and i > 0 and lines[i - 1].strip() == '')]
        lines = head + lines[head_end:]

    if wanted:
        # the first group of non-static, non-java imports: where Weir's files put io.weir imports
        first = next((i for i, l in enumerate(lines) if IMPORT_RE.match(l) and not IMPORT_RE.match(l).group(1)
                      and not IMPORT_RE.match(l).group(2).startswith(('java.', 'javax.'))), None)
        if first is not None:
            lines[first:first] = wanted
        else:
            any_imp = next((i for i, l in enumerate(lines) if IMPORT_RE.match(l)), None)
            if any_imp is not None:
                lines[any_imp:any_imp] = wanted + ['']
            else:
                p = next(i for i, l in enumerate(lines) if PKG_RE.match(l))
                lines[p + 1:p + 1] = [''] + wanted

    # sort each run of consecutive imports of one kind (static or not) that holds a changed line
    i = 0
    while i < len(lines):
        m = IMPORT_RE.match(lines[i])
        if not m:
            i += 1
            continue
        kind = bool(m.group(1))
        j = i
        while j + 1 < len(lines) and IMPORT_RE.match(lines[j + 1]) and bool(IMPORT_RE.match(lines[j + 1]).group(1)) == kind:
            j += 1
        run = lines[i:j + 1]
        if any(l.strip() in changed for l in run):
            run = sorted(set(run), key=lambda l: l.strip().rstrip(';'))
            lines[i:j + 1] = run
            j = i + len(run) - 1
        i = j + 1
    return '\n'.join(lines)


LINK_RE = re.compile(r'\{@link(?:plain)?\s+io\.weir\.(log|broker)(?:\.\w+)*\.([A-Z]\w*)(#[^\s}]*)?(?:\s+([^}]*?))?\s*\}')


def unlink_upstream(text):
    """Javadoc links from common (or a client) to log-core or the broker, which it cannot see,
    become plain mentions: {@link io.weir.log.internals.BatchValidator} -> log-core's {@code BatchValidator}."""
    def repl(m):
        if m.group(4):
            return m.group(4)
        owner = "log-core's" if m.group(1) == 'log' else "the broker's"
        member = (m.group(3) or '').replace('#', '.')
        return f'{owner} {{@code {m.group(2)}{member}}}'
    return LINK_RE.sub(repl, text)


def moved_names_for(pkg, moved_names):
    """The moved classes a file of package pkg may have used without an import: for log-core's
    packages (and the moved files themselves) all of common except what came from elsewhere; for
    another old package, only what moved out of it."""
    others = {n: p for (op, n), p in {**CLASS_MOVES, **TEST_CLASS_MOVES}.items() if op not in LOG_PACKAGES}
    if pkg in LOG_PACKAGES:
        return {n: p for n, p in moved_names.items() if n not in others}
    if pkg.startswith('io.weir.common'):
        return moved_names
    if pkg in OLD_PACKAGES:
        return {n: p for (op, n), p in {**CLASS_MOVES, **TEST_CLASS_MOVES}.items() if op == pkg}
    return {}


def rewrite_java(root, files, idx, moved_names):
    for rel in files:
        path = os.path.join(root, rel)
        text = read(path)
        new = text
        mod = module_of(rel)
        client = mod in CLIENT_MODULES
        # package declaration from the directory, for moved files
        if mod == 'common':
            want_pkg = path_package(rel)
            new = PKG_RE.sub(lambda mm: mm.group(0).replace(mm.group(1), want_pkg), new, count=1)
        new = rewrite_fqns(new, idx, client)
        if mod == 'common' or (client and not is_test(rel)):
            new = unlink_upstream(new)
        for fpath, old, fixed in TEXT_FIXES:
            if rel == fpath and old in new:
                new = new.replace(old, fixed)
        if rel.endswith('/CorruptIndexException.java') and mod == 'log-core':
            new = re.sub(r'(class\s+CorruptIndexException\s+extends\s+)RuntimeException\b', r'\1StorageException', new)
        pkg = package_of(new)
        names = moved_names_for(pkg, moved_names)
        if rel.endswith('/CorruptIndexException.java') and mod == 'log-core':
            names = {**names, 'StorageException': 'io.weir.common.errors'}
        new = fix_imports(new, idx, pkg, names, import_lines(new) - import_lines(text))
        if new != text:
            write(path, new, f'rewrite {rel}')


MEMBER_RE = re.compile(r'^(    )((?:static |final |abstract |synchronized )*)(?!return\b|throw\b|new\b|else\b)'
                       r'([\w<>\[\], .?]+?)\s+(\w+)\s*(=|;|\()', re.M)


def widen_members(root, files):
    """A moved class's package-private static member that code left behind in the old package uses
    as Class.member (e.g. RecordBatch.TIMESTAMP_TYPE_MASK from Log) becomes public."""
    texts = {rel: read(os.path.join(root, rel)) for rel in files}
    for rel in files:
        if not rel.startswith('common/src/main/java/'):
            continue
        text = texts[rel]
        cls = top_level_name(rel)
        if re.search(r'\b(interface|@interface)\s+' + cls + r'\b', text):
            continue
        pkg = path_package(rel)
        new = text
        for m in reversed(list(MEMBER_RE.finditer(text))):
            if 'static' not in m.group(2) or m.group(3).strip() in ('public', 'private', 'protected'):
                continue
            if m.group(3).split()[0] in ('public', 'private', 'protected'):
                continue
            member = m.group(4)
            ref = re.compile(r'(?<![\w.])' + re.escape(cls) + r'\.' + re.escape(member) + r'\b')
            users = [o for o in files if o != rel and path_package(o) != pkg and ref.search(texts[o])]
            if users:
                new = new[:m.start()] + '    public ' + new[m.start() + 4:]
                print(f'note: {cls}.{member} made public (used by {os.path.basename(users[0])})')
        if new != text:
            write(os.path.join(root, rel), new, f'rewrite {rel} (package-private members used from log-core)')


# ---- poms -----------------------------------------------------------------------------------------

TAG_RE = re.compile(r'<!--.*?-->|<(/?)([\w.:-]+)[^>]*?(/?)>', re.S)


def element_spans(xml, path):
    """(start, end) of each element at the given path (list of tag names from the root)."""
    stack, spans, starts = [], [], []
    for m in TAG_RE.finditer(xml):
        if m.group(0).startswith('<!--') or m.group(2) is None:
            continue
        if xml[m.start() + 1] in '?!':
            continue
        closing, name, selfclose = m.group(1), m.group(2), m.group(3)
        if closing:
            if stack and stack[-1] == name:
                if stack == path:
                    spans.append((starts.pop(), m.end()))
                stack.pop()
        elif not selfclose:
            stack.append(name)
            if stack == path:
                starts.append(m.start())
    return spans


def deps_block(xml):
    spans = element_spans(xml, ['project', 'dependencies'])
    return spans[0] if spans else None


DEP_RE = re.compile(r'(?:[ \t]*<!--(?:(?!-->).)*-->[ \t]*\n)*[ \t]*<dependency>.*?</dependency>[ \t]*\n?', re.S)


def dep_info(block):
    def tag(t):
        m = re.search(rf'<{t}>\s*([^<]*?)\s*</{t}>', block)
        return m.group(1) if m else None
    return {'groupId': tag('groupId'), 'artifactId': tag('artifactId'), 'type': tag('type') or 'jar',
            'scope': tag('scope') or 'compile'}


def list_deps(xml):
    span = deps_block(xml)
    if not span:
        return []
    s, e = span
    return [(s + m.start(), s + m.end(), dep_info(m.group(0))) for m in DEP_RE.finditer(xml[s:e])]


def one_line_dep(artifact, typ=None, scope=None, indent='    '):
    extra = (f'<type>{typ}</type>' if typ else '') + (f'<scope>{scope}</scope>' if scope else '')
    return f'{indent}<dependency><groupId>io.weir</groupId><artifactId>{artifact}</artifactId>{extra}</dependency>\n'


def pom_remove(xml, pred):
    for s, e, info in reversed(list_deps(xml)):
        if pred(info):
            xml = xml[:s] + xml[e:]
    return xml


def pom_insert(xml, line, after_pred=None, first=False):
    """Inserts a dependency line after the first dependency matching after_pred, else first or last."""
    deps = list_deps(xml)
    if deps:
        pos = deps[0][0] if first else deps[-1][1]
        for s, e, info in deps:
            if after_pred and after_pred(info):
                pos = e
                break
        if xml[pos - 1] != '\n':
            line = '\n' + line
        return xml[:pos] + line + xml[pos:]
    span = deps_block(xml)
    if span:
        s, e = span
        close = xml.rfind('</dependencies>', s, e)
        return xml[:close] + line.lstrip('\n') + '  ' + xml[close:]
    # no dependencies element: add one after the name/description
    m = re.search(r'</description>\n|</name>\n', xml)
    pos = m.end() if m else xml.index('</artifactId>') + len('</artifactId>\n')
    return xml[:pos] + '\n  <dependencies>\n' + line + '  </dependencies>\n' + xml[pos:]


def has_dep(xml, artifact, typ='jar'):
    return any(i['artifactId'] == artifact and i['type'] == typ for _, _, i in list_deps(xml))


def sources_use(root, mod, part, pattern):
    base = os.path.join(root, mod, 'src', part)
    rx = re.compile(pattern, re.M)
    for dirpath, dirnames, files in os.walk(base):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for f in files:
            if f.endswith('.java') and rx.search(read(os.path.join(dirpath, f))):
                return True
    return False


def rewrite_root_pom(root):
    path = os.path.join(root, 'pom.xml')
    xml = read(path)
    new = xml
    if '<module>common</module>' not in new:
        new = re.sub(r'([ \t]*)<module>log-core</module>', r'\1<module>common</module>\n\g<0>', new, count=1)
    dm = element_spans(new, ['project', 'dependencyManagement', 'dependencies'])
    if dm and '<artifactId>weir-common</artifactId>' not in new[dm[0][0]:dm[0][1]]:
        block = ('      <dependency>\n        <groupId>io.weir</groupId>\n        <artifactId>weir-common</artifactId>\n'
                 '        <version>${project.version}</version>\n      </dependency>\n'
                 '      <dependency>\n        <groupId>io.weir</groupId>\n        <artifactId>weir-common</artifactId>\n'
                 '        <version>${project.version}</version>\n        <type>test-jar</type>\n      </dependency>\n')
        m = re.search(r'[ \t]*<dependency>\s*<groupId>io\.weir</groupId>\s*<artifactId>weir-log-core</artifactId>',
                      new[dm[0][0]:])
        pos = dm[0][0] + m.start() if m else new.rindex('</dependencies>', dm[0][0], dm[0][1])
        new = new[:pos] + block + new[pos:]
    if new != xml:
        write(path, new, 'rewrite pom.xml (modules, dependencyManagement)')


CODECS = {'lz4-java': r'net\.jpountz\.', 'snappy-java': r'org\.xerial\.snappy\.', 'zstd-jni': r'com\.github\.luben\.'}


def rewrite_module_poms(root):
    mods = sorted(d for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, 'pom.xml')) and d not in SKIP_DIRS)
    for mod in mods:
        if mod == 'common':
            continue
        path = os.path.join(root, mod, 'pom.xml')
        xml = read(path)
        new = xml

        def is_log(i, t='jar'):
            return i['artifactId'] == 'weir-log-core' and i['type'] == t

        main_uses_common = sources_use(root, mod, 'main', r'\bio\.weir\.common\b')
        test_uses_common = sources_use(root, mod, 'test', r'\bio\.weir\.common\b')
        if mod == 'log-core':
            # the codecs go with CompressionType, unless log-core's own code still names them
            kept = {a for a, pkg_re in CODECS.items() if sources_use(root, mod, 'main', r'^import\s+' + pkg_re)}
            new = pom_remove(new, lambda i: i['artifactId'] in CODECS and i['artifactId'] not in kept)
            if not has_dep(new, 'weir-common'):
                new = pom_insert(new, one_line_dep('weir-common'), first=True)
        if mod in CLIENT_MODULES:
            logs = [d for d in list_deps(new) if is_log(d[2])]
            if logs and not has_dep(new, 'weir-common'):   # log-core -> common, in its place
                s, e, _ = logs[0]
                indent = re.match(r'[ \t]*', new[s:]).group(0)
                new = new[:s] + one_line_dep('weir-common', indent=indent) + new[e:]
            new = pom_remove(new, is_log)
            if main_uses_common and not has_dep(new, 'weir-common'):
                new = pom_insert(new, one_line_dep('weir-common'), first=True)
        elif main_uses_common and not has_dep(new, 'weir-common'):
            new = pom_insert(new, one_line_dep('weir-common'), lambda i: is_log(i), first=True)
        if test_uses_common and not has_dep(new, 'weir-common') and not has_dep(new, 'weir-log-core'):
            new = pom_insert(new, one_line_dep('weir-common', scope='test'))
        # test-jars: by what the tests import
        if sources_use(root, mod, 'test', r'\bio\.weir\.common\.testing\b') \
                and not has_dep(new, 'weir-common', 'test-jar'):
            new = pom_insert(new, one_line_dep('weir-common', typ='test-jar', scope='test'),
                             lambda i: is_log(i, 'test-jar'))
        if not sources_use(root, mod, 'test', r'\bio\.weir\.log\.testing\b'):
            new = pom_remove(new, lambda i: is_log(i, 'test-jar'))
        else:   # keep one
            dups = [(s, e) for s, e, i in list_deps(new) if is_log(i, 'test-jar')]
            for s, e in reversed(dups[1:]):
                new = new[:s] + new[e:]
        if new != xml:
            write(path, new, f'rewrite {mod}/pom.xml')


# ---- other files ---------------------------------------------------------------------------------

TEXT_EXT = ('.md', '.sh', '.properties', '.txt', '.xml', '.py', '.yml', '.yaml', '.json', '.conf', '.cfg')


def rewrite_other_files(root, idx):
    for rel in git(root, 'ls-files').split('\n'):
        if not rel or rel == SELF or rel.endswith('.java') or rel.endswith('pom.xml'):
            continue
        name = os.path.basename(rel)
        if not (rel.endswith(TEXT_EXT) or rel.startswith('bin/') or '.' not in name):
            continue
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            continue
        try:
            text = read(path)
        except UnicodeDecodeError:
            continue
        new = rewrite_fqns(text, idx, False)
        if new != text:
            write(path, new, f'rewrite {rel}')
    readme = os.path.join(root, 'README.md')
    if os.path.exists(readme):
        text = read(readme)
        new = text
        if '- `common/`' not in new:
            if '\n- `log-core/`' in new:
                new = new.replace('\n- `log-core/`', '\n' + README_COMMON_BULLET + '- `log-core/`', 1)
            else:
                problems.append('README.md: no "- `log-core/`" bullet found; describe common/ by hand')
        if README_LOG_OLD in new:
            new = new.replace(README_LOG_OLD, README_LOG_NEW)
        elif 'on `common`\'s record format' not in new:
            problems.append('README.md: the log-core bullet changed; take the record format out of it by hand')
        if new != text:
            write(readme, new, 'rewrite README.md (modules)')
    lr = os.path.join(root, 'log-core/README.md')
    if os.path.exists(lr) and LOG_README_OLD in read(lr):
        write(lr, read(lr).replace(LOG_README_OLD, LOG_README_NEW), 'rewrite log-core/README.md')


CONFLICT_RE = re.compile(r'^<<<<<<< [^\n]*\n(.*?)(?:^\|\|\|\|\|\|\| [^\n]*\n.*?)?^=======\n(.*?)^>>>>>>> [^\n]*\n',
                         re.S | re.M)


def union_import_conflicts(root, files):
    """Merge conflicts that lie only in import lists (both sides import lines or blank) become the
    union of both sides; the rewrite that follows renames and dedupes them. Other conflicts stay."""
    for rel in files:
        path = os.path.join(root, rel)
        text = read(path)
        if '<<<<<<< ' not in text:
            continue

        def repl(m):
            ours, theirs = m.group(1).split('\n')[:-1], m.group(2).split('\n')[:-1]
            if not all(IMPORT_RE.match(l) or not l.strip() for l in ours + theirs):
                return m.group(0)
            merged = []
            for l in ours + theirs:
                if l.strip() and l not in merged:
                    merged.append(l)
            return ''.join(l + '\n' for l in merged)
        new = CONFLICT_RE.sub(repl, text)
        if new != text:
            write(path, new, f'union of import conflicts in {rel}')
        if '<<<<<<< ' in new:
            problems.append(f'{rel}: a merge conflict outside the imports is left')


# ---- checks ---------------------------------------------------------------------------------------

def final_checks(root):
    files = java_files(root)
    for rel in files:
        mod = module_of(rel)
        text = read(os.path.join(root, rel))
        code = strip_comments_and_strings(text)
        if mod == 'common' and re.search(r'\bio\.weir\.(log|broker)\b', code):
            problems.append(f'{rel}: common must not name io.weir.log or io.weir.broker')
        if mod in CLIENT_MODULES and not is_test(rel) and re.search(r'\bio\.weir\.log\b', code):
            problems.append(f'{rel}: a client module names io.weir.log (log-core is not on its classpath)')
        for m in re.finditer(r'^import\s+(?:static\s+)?(io\.weir\.(\w+)(?:\.\w+)*\.internals\.[\w.]+)', code, re.M):
            owner = {'log': 'log-core', 'common': 'common'}.get(m.group(2), m.group(2))
            if owner != mod:
                warnings.append(f'{rel}: imports another module\'s internals: {m.group(1)}')


def main():
    global CHECK_ONLY
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='change nothing; exit 1 if a run would change something')
    ap.add_argument('--union-import-conflicts', action='store_true',
                    help='after a merge: resolve conflicts that lie only in import lists as the union of both sides')
    ap.add_argument('--root', help='the work tree (default: the git top level of the current directory)')
    args = ap.parse_args()
    CHECK_ONLY = args.check
    root = args.root or subprocess.run(['git', 'rev-parse', '--show-toplevel'], check=True,
                                       capture_output=True, text=True).stdout.strip()
    if not os.path.isfile(os.path.join(root, 'log-core/pom.xml')):
        sys.exit(f'{root}: not a Weir tree (no log-core/pom.xml)')

    # 1. the module
    if not os.path.exists(os.path.join(root, 'common/pom.xml')):
        write(os.path.join(root, 'common/pom.xml'), COMMON_POM, 'create common/pom.xml')
    if not os.path.exists(os.path.join(root, 'common/README.md')):
        write(os.path.join(root, 'common/README.md'), COMMON_README, 'create common/README.md')

    if args.union_import_conflicts:
        union_import_conflicts(root, java_files(root))

    # 2. the moves
    plan = plan_moves(root)
    for src, dst, _, _ in plan:
        move(root, src, dst)
    if CHECK_ONLY and changes:
        print('\n'.join(changes))
        sys.exit(1)
    se = os.path.join(root, COMMON_MAIN, 'errors/StorageException.java')
    if not os.path.exists(se):
        write(se, STORAGE_EXCEPTION, 'create io.weir.common.errors.StorageException')

    # 3. MockTime: the extended one, if the old one's public methods are all kept
    mt = os.path.join(root, COMMON_TEST, 'testing/MockTime.java')
    if os.path.exists(mt) and 'addListener' not in read(mt):
        old = set(re.findall(r'public\s+(?:static\s+)?[\w<>\[\]]+\s+(\w+)\s*\(', read(mt)))
        new = set(re.findall(r'public\s+(?:static\s+)?[\w<>\[\]]+\s+(\w+)\s*\(', MOCK_TIME))
        if old <= new:
            write(mt, MOCK_TIME, 'replace MockTime (separate ms/ns bases, auto-tick, listeners)')
        else:
            problems.append(f'MockTime gained {sorted(old - new)} since this script was written: merge by hand')
    mtt = os.path.join(root, COMMON_TEST, 'testing/MockTimeTest.java')
    if os.path.exists(mt) and not os.path.exists(mtt):
        write(mtt, MOCK_TIME_TEST, 'create MockTimeTest')

    # 4. java sources
    files = java_files(root)
    idx = build_index(root, files)
    moved_names = {}   # simple name -> new package, for every class now in common's main/test packages
    for p, names in idx.items():
        if p.startswith('io.weir.common'):
            for n in names:
                if n != 'package-info':
                    moved_names.setdefault(n, p)
    rewrite_java(root, files, idx, moved_names)
    widen_members(root, files)

    # 5. poms and other files
    rewrite_root_pom(root)
    rewrite_module_poms(root)
    rewrite_other_files(root, idx)

    if not CHECK_ONLY:
        final_checks(root)
    print(f'{len(changes)} change(s)' + (':' if changes else '; the tree is already split.'))
    for c in changes:
        print('  ' + c)
    if warnings:
        print('\nwarnings (not this script\'s to fix):')
        for w in sorted(set(warnings)):
            print('  ' + w)
    if problems:
        print('\nPROBLEMS (fix by hand, then re-run):', file=sys.stderr)
        for p in problems:
            print('  ' + p, file=sys.stderr)
        sys.exit(2)
    if CHECK_ONLY and changes:
        sys.exit(1)


if __name__ == '__main__':
    main()
