package io.weir.broker.api;

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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * DescribeLogDirs ({@code kafka-log-dirs.sh --describe}, {@code Admin.describeLogDirs}) and
 * AlterReplicaLogDirs ({@code Admin.alterReplicaLogDirs}). A Weir broker keeps every log in one
 * directory, the first of {@code log.dirs}: DescribeLogDirs lists it with each partition's size and
 * offset lag (log end minus high watermark) and the volume's total and usable bytes; AlterReplicaLogDirs
 * answers per partition: NONE when the target is that directory (the replica is already there),
 * LOG_DIR_NOT_FOUND for any other path, REPLICA_NOT_AVAILABLE for a partition this broker does not host.
 *
 * <p>Thread-safe.
 */
public final class LogDirsHandler implements ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(LogDirsHandler.class);

    private final ReplicaManager replicaManager;
    private final Path logDir;

    public LogDirsHandler(ReplicaManager replicaManager) {
        this.replicaManager = replicaManager;
        this.logDir = replicaManager.logManager().logDir().toAbsolutePath().normalize();
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
        Map<String, List<DescribeLogDirsResponse.DescribeLogDirsPartition>> byTopic = new LinkedHashMap<>();
        List<Partition> hosted = new ArrayList<>(replicaManager.partitions());
        hosted.sort(Comparator.comparing((Partition p) -> p.topicPartition().topic())
            .thenComparingInt(p -> p.topicPartition().partition()));
        for (Partition p : hosted) {
            TopicPartition tp = p.topicPartition();
            if (wanted != null && !wanted.contains(tp)) {
                continue;
            }
            long lag = Math.max(0, p.log().logEndOffset() - p.highWatermark());
            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(
                new DescribeLogDirsResponse.DescribeLogDirsPartition().setPartitionIndex(tp.partition())
                    .setPartitionSize(p.log().sizeInBytes()).setOffsetLag(lag).setIsFutureKey(false));
        }
        List<DescribeLogDirsResponse.DescribeLogDirsTopic> topics = new ArrayList<>();
        for (Map.Entry<String, List<DescribeLogDirsResponse.DescribeLogDirsPartition>> e : byTopic.entrySet()) {
            topics.add(new DescribeLogDirsResponse.DescribeLogDirsTopic().setName(e.getKey()).setPartitions(e.getValue()));
        }
        long total = -1;
        long usable = -1;
        try {
            FileStore fs = Files.getFileStore(logDir);
            total = fs.getTotalSpace();
            usable = fs.getUsableSpace();
        } catch (IOException e) {
            log.warn("cannot read the size of the volume holding {}: {}", logDir, e.getMessage());
        }
        DescribeLogDirsResponse.DescribeLogDirsResult dir = new DescribeLogDirsResponse.DescribeLogDirsResult()
            .setErrorCode(Errors.NONE.code()).setLogDir(logDir.toString()).setTopics(topics)
            .setTotalBytes(total).setUsableBytes(usable).setIsCordoned(false);
        return new DescribeLogDirsResponse().setErrorCode(Errors.NONE.code()).setResults(List.of(dir));
    }

    private AlterReplicaLogDirsResponse alter(AlterReplicaLogDirsRequest req) {
        Map<String, List<AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult>> byTopic = new LinkedHashMap<>();
        for (AlterReplicaLogDirsRequest.AlterReplicaLogDir d : req.dirs()) {
            boolean ours = isLogDir(d.path());
            for (AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic t : d.topics()) {
                for (int p : t.partitions()) {
                    Errors error = !ours ? Errors.LOG_DIR_NOT_FOUND
                        : replicaManager.partition(new TopicPartition(t.name(), p)) == null ? Errors.REPLICA_NOT_AVAILABLE
                        : Errors.NONE;
                    byTopic.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(
                        new AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult().setPartitionIndex(p)
                            .setErrorCode(error.code()));
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

    private boolean isLogDir(String path) {
        try {
            return Paths.get(path).toAbsolutePath().normalize().equals(logDir);
        } catch (RuntimeException e) {
            return false;
        }
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
