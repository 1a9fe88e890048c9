package io.weir.producer.internals;

import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.Header;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.message.MetadataResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Sender#poll}'s answer to the network client (how long it may wait before the next iteration), and work
 * handed to a sender whose loop has ended.
 */
class SenderPollTest {

    @Test
    void shouldAskForTheNextIterationAtOnceWhenAResponseHandlerWaitsForIt() throws Exception {
        // no broker: the client is closed before the sender runs, so the Produce call it sends fails at once,
        // inside the iteration, and its handler is left for the next iteration
        NetworkClient client = closedClient();
        long nowMs = Time.SYSTEM.milliseconds();
        client.metadata().addTopics(Set.of("t"));
        client.metadata().update(new MetadataResponse().setClusterId("c").setControllerId(1)
            .setBrokers(List.of(new MetadataResponse.MetadataResponseBroker().setNodeId(1).setHost("127.0.0.1")
                .setPort(1)))
            .setTopics(List.of(new MetadataResponse.MetadataResponseTopic().setName("t").setPartitions(List.of(
                new MetadataResponse.MetadataResponsePartition().setPartitionIndex(0).setLeaderId(1)
                    .setReplicaNodes(List.of(1)).setIsrNodes(List.of(1)))))), nowMs);
        RecordAccumulator accumulator = new RecordAccumulator(1024, CompressionType.NONE,
            CompressionType.NONE.defaultLevel, 0, 100, 120_000, new BufferPool(1 << 20, 1024, Time.SYSTEM));
        accumulator.append(new TopicPartition("t", 0), nowMs, null, new byte[] {1}, new Header[0], null, 0, nowMs);
        Sender sender = new Sender(client, accumulator, null, Time.SYSTEM, (short) 1, 30_000, 1 << 20, 0, 5, 100,
            60_000);
        // a wakeup() the iteration makes for itself does not shorten the network client's wait: only the answer does
        assertEquals(0, sender.poll(nowMs), "a poll that left a response handler queued must not let the loop wait for I/O");
    }

    @Test
    void shouldFailATransactionHookHandedOverAfterTheLoopEnded() throws Exception {
        NetworkClient client = closedClient();
        RecordAccumulator accumulator = new RecordAccumulator(1024, CompressionType.NONE,
            CompressionType.NONE.defaultLevel, 0, 100, 120_000, new BufferPool(1 << 20, 1024, Time.SYSTEM));
        Sender sender = new Sender(client, accumulator, null, Time.SYSTEM, (short) 1, 30_000, 1 << 20, 0, 5, 100,
            60_000);
        sender.onClientClosed(Time.SYSTEM.milliseconds()); // the loop ended (its I/O thread is gone)
        // a transaction manager racing the close: before, the hook sat in a queue nobody would read again
        CompletableFuture<Boolean> failed = sender.transactionHooks().failQueuedBatches(new RuntimeException("abort"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> failed.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalStateException, e.getCause().toString());
    }

    private static NetworkClient closedClient() {
        NetworkClient client = new NetworkClient(
            NetworkClient.Settings.defaults(List.of(new Node(-1, "127.0.0.1", 1)), "sender-poll"), Time.SYSTEM);
        client.close(0);
        return client;
    }
}
