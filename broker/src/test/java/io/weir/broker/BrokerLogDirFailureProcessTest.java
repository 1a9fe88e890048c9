package io.weir.broker;

import io.weir.broker.testing.BrokerProcess;
import io.weir.broker.testing.RawConnection;
import io.weir.common.record.CompressionType;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.ProduceRequest;
import io.weir.protocol.message.ProduceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker process whose every log directory fails exits, as Kafka's does ("Shutdown broker because all log
 * dirs in ... have failed"), with status 1; the faults are real (each directory renamed away under it).
 */
class BrokerLogDirFailureProcessTest {
    private static final String TOPIC = "doomed";

    @TempDir
    Path dir;

    private static Errors produce(RawConnection c, int partition) throws Exception {
        ProduceResponse r = (ProduceResponse) c.call(ApiKeys.PRODUCE, (short) 9, new ProduceRequest().setAcks((short) 1)
            .setTimeoutMs(5_000).setTopicData(List.of(new ProduceRequest.TopicProduceData().setName(TOPIC)
                .setPartitionData(List.of(new ProduceRequest.PartitionProduceData().setIndex(partition)
                    .setRecords(Records.wrap(new RecordBatchBuilder(CompressionType.NONE)
                        .append(1L, null, "v".getBytes(StandardCharsets.UTF_8)).build())))))));
        return Errors.forCode(r.responses().get(0).partitionResponses().get(0).errorCode());
    }

    @Test
    void shouldExitWhenEveryLogDirectoryFailed() throws Exception {
        Path x = dir.resolve("x");
        Path y = dir.resolve("y");
        try (BrokerProcess broker = new BrokerProcess(dir.resolve("broker"))) {
            broker.start("log.dirs=" + x + "," + y);
            try (RawConnection c = new RawConnection(broker.port())) {
                CreateTopicsResponse created = (CreateTopicsResponse) c.call(ApiKeys.CREATE_TOPICS, (short) 7,
                    new CreateTopicsRequest().setTimeoutMs(30_000).setTopics(List.of(new CreateTopicsRequest.CreatableTopic()
                        .setName(TOPIC).setNumPartitions(2).setReplicationFactor((short) 1).setConfigs(List.of(
                            new CreateTopicsRequest.CreatableTopicConfig().setName("segment.bytes").setValue("100"))))));
                assertEquals(Errors.NONE.code(), created.topics().get(0).errorCode());
                assertTrue(Files.isDirectory(x.resolve(TOPIC + "-0")) && Files.isDirectory(y.resolve(TOPIC + "-1")));
                assertEquals(Errors.NONE, produce(c, 0));
                assertEquals(Errors.NONE, produce(c, 1));
                Files.move(y, dir.resolve("y.failed"), StandardCopyOption.ATOMIC_MOVE);
                assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, 1));
                Files.move(x, dir.resolve("x.failed"), StandardCopyOption.ATOMIC_MOVE);
                assertEquals(Errors.KAFKA_STORAGE_ERROR, produce(c, 0));
            }
            assertEquals(1, broker.awaitExit(Duration.ofSeconds(120)));
            assertTrue(broker.output().contains("Shutdown broker 0 because all log dirs in"), broker.output());
        }
    }
}
