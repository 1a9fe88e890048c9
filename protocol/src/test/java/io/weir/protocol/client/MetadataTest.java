package io.weir.protocol.client;

import io.weir.protocol.Errors;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.MetadataResponse.MetadataResponseBroker;
import io.weir.protocol.message.MetadataResponse.MetadataResponsePartition;
import io.weir.protocol.message.MetadataResponse.MetadataResponseTopic;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataTest {
    private static final long NOW = 1_000_000L;
    private final Metadata metadata = new Metadata(List.of(new Node(-1, "localhost", 9092)),
        new ExponentialBackoff(100, 1_000, 0, () -> 0.5), 60_000);

    private static MetadataResponse response(int leaderOfP1) {
        return new MetadataResponse().setClusterId("c1").setControllerId(2)
            .setBrokers(List.of(new MetadataResponseBroker().setNodeId(1).setHost("h1").setPort(1),
                new MetadataResponseBroker().setNodeId(2).setHost("h2").setPort(2).setRack("r2")))
            .setTopics(List.of(
                new MetadataResponseTopic().setName("t").setTopicId(new UUID(1, 2)).setPartitions(List.of(
                    new MetadataResponsePartition().setPartitionIndex(1).setLeaderId(leaderOfP1)
                        .setReplicaNodes(List.of(2, 1)).setIsrNodes(List.of(2)),
                    new MetadataResponsePartition().setPartitionIndex(0).setLeaderId(1)
                        .setReplicaNodes(List.of(1, 2)).setIsrNodes(List.of(1, 2)))),
                new MetadataResponseTopic().setName("gone").setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()),
                new MetadataResponseTopic().setName("not-of-interest")));
    }

    @Test
    void shouldStartWithBootstrapNodesAndWantAnUpdate() {
        assertTrue(metadata.cluster().isBootstrap());
        assertEquals(-1, metadata.cluster().nodes().get(0).id());
        assertEquals(0, metadata.timeToNextUpdate(NOW));
    }

    @Test
    void shouldApplyResponseKeepingOnlyTopicsOfInterest() {
        metadata.addTopics(List.of("t", "gone"));
        metadata.update(response(2), NOW);
        Cluster c = metadata.cluster();
        assertFalse(c.isBootstrap());
        assertEquals("c1", c.clusterId());
        assertEquals(2, c.controller().id());
        assertEquals("r2", c.node(2).rack());
        assertEquals(Set.of("t"), c.topicNames());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION, c.topicError("gone"));
        assertEquals(0, c.partitionsFor("t").get(0).partition(), "partitions are sorted");
        assertEquals(2, c.leaderFor("t", 1).orElseThrow().id());
        assertEquals(new UUID(1, 2), c.topic("t").topicId());
        assertEquals(List.of(2, 1), c.partitionsFor("t").get(1).replicas());
        assertEquals(1, metadata.updateVersion());
    }

    @Test
    void shouldRefreshAfterMaxAgeAndOnRequestRespectingBackoff() {
        metadata.update(response(2), NOW);
        assertEquals(60_000, metadata.timeToNextUpdate(NOW));
        assertEquals(0, metadata.timeToNextUpdate(NOW + 60_000));
        metadata.requestUpdate();
        // requested right after an update: wait retry.backoff.ms, no storm
        assertEquals(100, metadata.timeToNextUpdate(NOW));
        assertEquals(0, metadata.timeToNextUpdate(NOW + 100));
    }

    @Test
    void shouldBackOffExponentiallyWhileRefreshesFail() {
        metadata.refreshStarted(NOW);
        metadata.refreshFailed(NOW);
        assertEquals(200, metadata.timeToNextUpdate(NOW));
        metadata.refreshFailed(NOW);
        assertEquals(400, metadata.timeToNextUpdate(NOW));
        for (int i = 0; i < 10; i++) {
            metadata.refreshFailed(NOW);
        }
        assertEquals(1_000, metadata.timeToNextUpdate(NOW));
    }

    @Test
    void shouldWantAnotherUpdateWhenAPartitionHasNoLeader() {
        metadata.addTopics(List.of("t"));
        metadata.update(response(-1), NOW);
        assertTrue(metadata.cluster().leaderFor("t", 1).isEmpty());
        assertEquals(100, metadata.timeToNextUpdate(NOW));
    }

    @Test
    void shouldRequestUpdateOnlyForStaleMetadataErrors() {
        metadata.update(response(2), NOW);
        assertFalse(metadata.requestUpdateForError(Errors.TOPIC_ALREADY_EXISTS));
        assertEquals(60_000, metadata.timeToNextUpdate(NOW));
        for (Errors e : List.of(Errors.NOT_LEADER_OR_FOLLOWER, Errors.UNKNOWN_TOPIC_OR_PARTITION,
            Errors.LEADER_NOT_AVAILABLE, Errors.NOT_CONTROLLER)) {
            assertTrue(Metadata.isStaleMetadataError(e), e.name());
        }
        assertTrue(metadata.requestUpdateForError(Errors.NOT_LEADER_OR_FOLLOWER));
        assertEquals(100, metadata.timeToNextUpdate(NOW));
    }

    @Test
    void shouldAskForAllTopicsOrTheInterestSet() {
        metadata.addTopics(List.of("a"));
        assertEquals(Set.of("a"), metadata.topicsToRequest());
        metadata.setAllTopics(true);
        assertNull(metadata.topicsToRequest());
    }

    @Test
    void shouldCompleteAWaiterOnlyWithTheAnswerToARefreshThatCoveredItsTopics() {
        metadata.addTopics(List.of("gone"));
        Metadata.RefreshRequest before = metadata.refreshStarted(NOW);
        assertEquals(Set.of("gone"), before.topics());
        // "t" becomes of interest while that refresh is in flight, and someone waits for it
        metadata.addTopics(List.of("t"));
        CompletableFuture<Cluster> waiter = metadata.awaitUpdate(NOW + 10_000);
        metadata.update(response(2), before.version(), NOW + 5);
        assertFalse(waiter.isDone(), "the answer to a refresh sent before \"t\" was added completed its waiter");
        assertEquals(1, metadata.updateVersion(), "the older answer is still applied");
        // asked again after the retry backoff, not after metadata.max.age.ms
        assertEquals(100, metadata.timeToNextUpdate(NOW + 5));
        Metadata.RefreshRequest after = metadata.refreshStarted(NOW + 105);
        assertEquals(Set.of("gone", "t"), after.topics());
        assertTrue(after.version() > before.version());
        metadata.update(response(2), after.version(), NOW + 110);
        assertEquals(Set.of("t"), waiter.join().topicNames());
        assertEquals(60_000, metadata.timeToNextUpdate(NOW + 110));
    }

    @Test
    void shouldNotCountARefreshInFlightAsTheAnswerToALaterRequestForAnUpdate() {
        Metadata.RefreshRequest inFlight = metadata.refreshStarted(NOW);
        metadata.requestUpdate(); // e.g. NOT_LEADER_OR_FOLLOWER seen while that refresh was out
        metadata.update(response(2), inFlight.version(), NOW + 5);
        assertEquals(100, metadata.timeToNextUpdate(NOW + 5));
        metadata.update(response(2), metadata.refreshStarted(NOW + 105).version(), NOW + 110);
        assertEquals(60_000, metadata.timeToNextUpdate(NOW + 110));
    }

    @Test
    void shouldCompleteEveryWaiterRegisteredBeforeARefreshWasBuilt() {
        CompletableFuture<Cluster> a = metadata.awaitUpdate(NOW + 10_000);
        metadata.addTopics(List.of("t"));
        CompletableFuture<Cluster> b = metadata.awaitUpdate(NOW + 10_000);
        Metadata.RefreshRequest r = metadata.refreshStarted(NOW);
        CompletableFuture<Cluster> late = metadata.awaitUpdate(NOW + 10_000);
        metadata.update(response(2), r.version(), NOW + 5);
        assertTrue(a.isDone());
        assertTrue(b.isDone());
        assertFalse(late.isDone(), "a waiter registered after the refresh was built needs the next one");
    }

    @Test
    void shouldCompleteAndExpireWaiters() {
        CompletableFuture<Cluster> a = metadata.awaitUpdate(NOW + 10);
        CompletableFuture<Cluster> b = metadata.awaitUpdate(NOW + 1_000);
        assertEquals(NOW + 10, metadata.expireWaiters(NOW));
        metadata.expireWaiters(NOW + 10);
        assertTrue(a.isCompletedExceptionally());
        metadata.update(response(2), NOW + 20);
        assertEquals("c1", b.join().clusterId());
    }
}
