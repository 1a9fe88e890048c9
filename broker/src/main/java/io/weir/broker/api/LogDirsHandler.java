package io.weir.broker.api;

import io.weir.broker.server.LogDirMover;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.AlterReplicaLogDirsRequest;
import io.weir.protocol.message.AlterReplicaLogDirsResponse;
import io.weir.protocol.message.DescribeLogDirsRequest;
import io.weir.protocol.message.DescribeLogDirsResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * DescribeLogDirs ({@code kafka-log-dirs.sh --describe}, {@code Admin.describeLogDirs}) and
 * AlterReplicaLogDirs ({@code Admin.alterReplicaLogDirs}). DescribeLogDirs lists every directory of
 * {@code log.dirs}, in the configured order, with each partition it holds (size, offset lag: log end
 * minus high watermark) and its volume's total and usable bytes, and the future replica of a move under
 * way in its target directory ({@code isFuture=true}, offset lag: current log end minus the copy's end), as
 * Kafka does; {@code Admin.describeReplicaLogDirs} and {@code kafka-reassign-partitions.sh --verify} read
 * the move's progress from it. AlterReplicaLogDirs answers per partition: NONE when the target is the
 * directory already holding the replica (a move under way elsewhere is cancelled) or another of this
 * broker's directories, LOG_DIR_NOT_FOUND for a path that is none of them, REPLICA_NOT_AVAILABLE for a
 * partition this broker does not host. A move answers at once, once its future replica exists
 * ({@link ReplicaManager#moveReplicaLog}); the replica keeps serving while {@code LogDirMover} copies it
 * and swaps the copy in. A future replica that cannot be created, a failed target directory or an offline
 * partition answers KAFKA_STORAGE_ERROR. A directory that failed (an I/O error took it offline) is
 * described with KAFKA_STORAGE_ERROR and nothing in it.
 *
 * <p>Thread-safe.
 */
public final class LogDirsHandler implements ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(LogDirsHandler.class);

    private final ReplicaManager replicaManager;
    /** The log manager's directories, in order, and each one's absolute name as clients see it. */
    private final Map<Path, String> logDirs = new LinkedHashMap<>();

    public LogDirsHandler(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
        for (Path dir : replicaManager.logManager().logDirs()) {
            logDirs.put(dir, dir.toAbsolutePath().normalize().toString());
        }
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.DESCRIBE_LOG_DIRS, VersionRange.all(ApiKeys.DESCRIBE_LOG_DIRS),
            ApiKeys.ALTER_REPLICA_LOG_DIRS, VersionRange.all(ApiKeys.ALTER_REPLICA_LOG_DIRS));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        switch (ctx.api()) {
            case DESCRIBE_LOG_DIRS -> ctx.respond(describe((DescribeLogDirsRequest) body));
            case ALTER_REPLICA_LOG_DIRS -> ctx.respond(alter((AlterReplicaLogDirsRequest) body));
            default -> throw new IllegalStateException("not a log-dirs API: " + ctx.api());
        }
    }

    private DescribeLogDirsResponse describe(DescribeLogDirsRequest req) {
        Set<TopicPartition> wanted = null;
        if (req.topics() != null) {
            wanted = new HashSet<>();
            for (DescribeLogDirsRequest.DescribableLogDirTopic t : req.topics()) {
                for (int p : t.partitions()) {
                    wanted.add(new TopicPartition(t.topic(), p));
                }
            }
        }
        Path first = replicaManager.logManager().logDir();
        Map<Path, Map<String, List<DescribeLogDirsResponse.DescribeLogDirsPartition>>> byDir = new HashMap<>();
        List<Partition> hosted = new ArrayList<>(replicaManager.partitions());
        hosted.sort(Comparator.comparing((Partition p) -> p.topicPartition().topic())
            .thenComparingInt(p -> p.topicPartition().partition()));
        for (Partition p : hosted) {
            TopicPartition tp = p.topicPartition();
            if (wanted != null && !wanted.contains(tp)) {
                continue;
            }
            LogDirMover.Placement at = replicaManager.logDirMover().placement(p);
            long lag = Math.max(0, at.logEndOffset() - p.highWatermark());
            byDir.computeIfAbsent(at.dir() == null ? first : at.dir(), k -> new LinkedHashMap<>())
                .computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(
                new DescribeLogDirsResponse.DescribeLogDirsPartition().setPartitionIndex(tp.partition())
                    .setPartitionSize(at.size()).setOffsetLag(lag).setIsFutureKey(false));
            if (at.futureDir() != null) {
                byDir.computeIfAbsent(at.futureDir(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(
                    new DescribeLogDirsResponse.DescribeLogDirsPartition().setPartitionIndex(tp.partition())
                        .setPartitionSize(at.futureSize())
                        .setOffsetLag(Math.max(0, at.logEndOffset() - at.futureLogEndOffset()))
                        .setIsFutureKey(true));
            }
        }
        List<DescribeLogDirsResponse.DescribeLogDirsResult> results = new ArrayList<>();
        for (Map.Entry<Path, String> d : logDirs.entrySet()) {
            if (replicaManager.logManager().isOffline(d.getKey())) {
                // a failed directory (Kafka's answer): its error, no partitions, no sizes
                results.add(new DescribeLogDirsResponse.DescribeLogDirsResult()
                    .setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()).setLogDir(d.getValue()).setTopics(List.of())
                    .setTotalBytes(-1).setUsableBytes(-1).setIsCordoned(false));
                continue;
            }
            List<DescribeLogDirsResponse.DescribeLogDirsTopic> topics = new ArrayList<>();
            for (Map.Entry<String, List<DescribeLogDirsResponse.DescribeLogDirsPartition>> e
                    : byDir.getOrDefault(d.getKey(), Map.of()).entrySet()) {
                topics.add(new DescribeLogDirsResponse.DescribeLogDirsTopic().setName(e.getKey())
                    .setPartitions(e.getValue()));
            }
            long total = -1;
            long usable = -1;
            try {
                FileStore fs = Files.getFileStore(d.getKey());
                total = fs.getTotalSpace();
                usable = fs.getUsableSpace();
            } catch (IOException e) {
                log.warn("cannot read the size of the volume holding {}: {}", d.getValue(), e.getMessage());
            }
            results.add(new DescribeLogDirsResponse.DescribeLogDirsResult()
                .setErrorCode(Errors.NONE.code()).setLogDir(d.getValue()).setTopics(topics)
                .setTotalBytes(total).setUsableBytes(usable).setIsCordoned(false));
        }
        return new DescribeLogDirsResponse().setErrorCode(Errors.NONE.code()).setResults(results);
    }

    private AlterReplicaLogDirsResponse alter(AlterReplicaLogDirsRequest req) {
        Map<String, List<AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult>> byTopic = new LinkedHashMap<>();
        for (AlterReplicaLogDirsRequest.AlterReplicaLogDir d : req.dirs()) {
            Path target = logDirNamed(d.path());
            for (AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic t : d.topics()) {
                for (int p : t.partitions()) {
                    byTopic.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(
                        new AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult().setPartitionIndex(p)
                            .setErrorCode(alterOne(new TopicPartition(t.name(), p), target, d.path()).code()));
                }
            }
        }
        List<AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult> out = new ArrayList<>();
        for (Map.Entry<String, List<AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult>> e : byTopic.entrySet()) {
            out.add(new AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult().setTopicName(e.getKey())
                .setPartitions(e.getValue()));
        }
        return new AlterReplicaLogDirsResponse().setResults(out);
    }

    private Errors alterOne(TopicPartition tp, Path target, String requested) {
        if (target == null) {
            return Errors.LOG_DIR_NOT_FOUND;
        }
        if (replicaManager.logManager().isOffline(target) || replicaManager.isOffline(tp)) {
            return Errors.KAFKA_STORAGE_ERROR;
        }
        if (replicaManager.partition(tp) == null) {
            return Errors.REPLICA_NOT_AVAILABLE;
        }
        Path current = replicaManager.logManager().logDirOf(tp);
        if (current == null) {
            return Errors.NONE;
        }
        try {
            return replicaManager.moveReplicaLog(tp, target) ? Errors.NONE : Errors.REPLICA_NOT_AVAILABLE;
        } catch (RuntimeException e) {
            log.error("cannot start moving the log of {} from {} to {}", tp, logDirs.get(current), requested, e);
            return Errors.KAFKA_STORAGE_ERROR;
        }
    }

    /** The log manager's directory that {@code path} names, or null if it names none of them. */
    private Path logDirNamed(String path) {
        String wanted;
        try {
            wanted = Paths.get(path).toAbsolutePath().normalize().toString();
        } catch (RuntimeException e) {
            return null;
        }
        for (Map.Entry<Path, String> d : logDirs.entrySet()) {
            if (d.getValue().equals(wanted)) {
                return d.getKey();
            }
        }
        return null;
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        if (ApiKeys.forId(header.apiKey()) == ApiKeys.DESCRIBE_LOG_DIRS) {
            return new DescribeLogDirsResponse().setErrorCode(error.code()).setResults(List.of());
        }
        List<AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult> out = new ArrayList<>();
        for (AlterReplicaLogDirsRequest.AlterReplicaLogDir d : ((AlterReplicaLogDirsRequest) body).dirs()) {
            for (AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic t : d.topics()) {
                List<AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult> parts = new ArrayList<>();
                for (int p : t.partitions()) {
                    parts.add(new AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult().setPartitionIndex(p)
                        .setErrorCode(error.code()));
                }
                out.add(new AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult().setTopicName(t.name())
                    .setPartitions(parts));
            }
        }
        return new AlterReplicaLogDirsResponse().setResults(out);
    }
}
