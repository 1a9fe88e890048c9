package io.weir.protocol.client;

import io.weir.common.Time;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.DescribeClusterRequest;
import io.weir.protocol.message.DescribeClusterResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NetworkClient against {@link FakeBroker}: real sockets, real codec, real clock (deadlines, no sleeps). */
class NetworkClientTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private FakeBroker broker(FakeBroker.Handler h) throws IOException {
        FakeBroker b = new FakeBroker(h);
        toClose.add(b);
        return b;
    }

    private NetworkClient client(NetworkClient.Settings s) {
        NetworkClient c = new NetworkClient(s, Time.SYSTEM);
        toClose.add(c);
        return c;
    }

    private static NetworkClient.Settings settings(Node bootstrap, int requestTimeoutMs, int maxInFlight) {
        return new NetworkClient.Settings(List.of(bootstrap), "test", requestTimeoutMs, 10, 50, 10, 50, 300_000,
            300_000, 5_000, -1, -1, maxInFlight, 1024 * 1024, 100);
    }

    private static long deadline(long ms) {
        return System.currentTimeMillis() + ms;
    }

    /** A Metadata response describing this one fake broker as node 7, the controller. */
    private static MetadataResponse selfMetadata(FakeBroker b) {
        return new MetadataResponse().setClusterId("fake-cluster").setControllerId(7).setBrokers(List.of(
            new MetadataResponse.MetadataResponseBroker().setNodeId(7).setHost("127.0.0.1").setPort(b.port())));
    }

    private static Throwable failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return e.getCause();
    }

    @Test
    void shouldHandshakeAndSendAtHighestCommonVersion() throws Exception {
        FakeBroker[] ref = new FakeBroker[1];
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof io.weir.protocol.message.ApiVersionsRequest) {
                ApiVersionsResponse r = FakeBroker.allVersions();
                // the broker only goes up to Metadata v5
                r.apiKeys().stream().filter(v -> v.apiKey() == ApiKeys.METADATA.id()).forEach(v -> v.setMaxVersion((short) 5));
                return r;
            }
            return req instanceof MetadataRequest ? selfMetadata(ref[0]) : null;
        });
        ref[0] = b;
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        ApiMessage resp = c.send(NodeSelector.leastLoaded(), RequestBuilder.of(new MetadataRequest()), deadline(10_000)).join();
        assertEquals("fake-cluster", ((MetadataResponse) resp).clusterId());
        List<FakeBroker.Received> versions = b.received(ApiKeys.API_VERSIONS);
        assertEquals(ApiKeys.API_VERSIONS.highestVersion(), versions.get(0).header().apiVersion());
        assertEquals("test", versions.get(0).header().clientId());
        for (FakeBroker.Received r : b.received(ApiKeys.METADATA)) {
            assertEquals(5, r.header().apiVersion());
        }
    }

    @Test
    void shouldExposeTheFinalizedFeaturesOfTheLatestHandshake() throws Exception {
        FakeBroker[] ref = new FakeBroker[1];
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof io.weir.protocol.message.ApiVersionsRequest) {
                return FakeBroker.allVersions().setFinalizedFeaturesEpoch(3).setFinalizedFeatures(List.of(
                    new ApiVersionsResponse.FinalizedFeatureKey().setName("transaction.version")
                        .setMinVersionLevel((short) 0).setMaxVersionLevel((short) 2)));
            }
            return req instanceof MetadataRequest ? selfMetadata(ref[0]) : null;
        });
        ref[0] = b;
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        assertEquals(java.util.Map.of(), c.finalizedFeatures());
        assertTrue(!c.featuresKnown());
        c.send(NodeSelector.leastLoaded(), RequestBuilder.of(new MetadataRequest()), deadline(10_000)).join();
        assertTrue(c.featuresKnown());
        assertEquals(java.util.Map.of("transaction.version", (short) 2), c.finalizedFeatures());
    }

    @Test
    void shouldRefreshMetadataAndRouteByNodeId() throws Exception {
        FakeBroker[] ref = new FakeBroker[1];
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof MetadataRequest) {
                return selfMetadata(ref[0]);
            }
            if (req instanceof DescribeClusterRequest) {
                return new DescribeClusterResponse().setClusterId("dc");
            }
            return null;
        });
        ref[0] = b;
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        Cluster cluster = c.refreshMetadata(deadline(10_000)).join();
        assertEquals("fake-cluster", cluster.clusterId());
        assertEquals(7, cluster.controller().id());
        assertTrue(!cluster.isBootstrap());
        DescribeClusterResponse dc = (DescribeClusterResponse) c.send(7, new DescribeClusterRequest(), deadline(10_000)).join();
        assertEquals("dc", dc.clusterId());
        DescribeClusterResponse viaController = (DescribeClusterResponse) c.send(NodeSelector.controller(),
            RequestBuilder.of(new DescribeClusterRequest()), deadline(10_000)).join();
        assertEquals("dc", viaController.clusterId());
    }

    @Test
    void shouldNotCompleteAMetadataWaiterWithTheAnswerToARefreshSentBeforeItsTopicWasAdded() throws Exception {
        CountDownLatch firstArrived = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        AtomicInteger metadataRequests = new AtomicInteger();
        FakeBroker[] ref = new FakeBroker[1];
        FakeBroker b = broker((h, req, conn) -> {
            if (!(req instanceof MetadataRequest m)) {
                return null;
            }
            if (metadataRequests.getAndIncrement() == 0) {
                // hold the client's first refresh (asked before any topic was of interest)
                firstArrived.countDown();
                try {
                    releaseFirst.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return FakeBroker.CLOSE;
                }
            }
            // every topic asked for exists, with one partition led by this broker
            List<MetadataResponse.MetadataResponseTopic> topics = new ArrayList<>();
            for (MetadataRequest.MetadataRequestTopic t : m.topics() == null ? List.<MetadataRequest.MetadataRequestTopic>of() : m.topics()) {
                topics.add(new MetadataResponse.MetadataResponseTopic().setName(t.name()).setPartitions(List.of(
                    new MetadataResponse.MetadataResponsePartition().setPartitionIndex(0).setLeaderId(7)
                        .setReplicaNodes(List.of(7)).setIsrNodes(List.of(7)))));
            }
            return selfMetadata(ref[0]).setTopics(topics);
        });
        ref[0] = b;
        // metadata.max.age.ms is 300 s here: only a refresh asked for at once can bring the topic in time
        NetworkClient c = client(settings(b.node(-1), 60_000, 5));
        CompletableFuture<Cluster> waiter;
        try {
            assertTrue(firstArrived.await(30, TimeUnit.SECONDS), "the client's first metadata refresh");
            c.metadata().addTopics(List.of("added"));
            waiter = c.refreshMetadata(deadline(60_000));
        } finally {
            releaseFirst.countDown();
        }
        Cluster cluster = waiter.get(60, TimeUnit.SECONDS);
        assertNotNull(cluster.topic("added"),
            "the waiter for \"added\" was completed by the answer to a refresh sent before \"added\" was of interest");
    }

    @Test
    void shouldDeliverLargeRequestsWholeWhenTheSocketTakesThemInParts() throws Exception {
        // a 4 KB send buffer and a broker that reads slowly: a request is first written from the client's
        // reused buffer, the part the socket refused is queued, and later requests queue behind it
        CountDownLatch release = new CountDownLatch(1);
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof io.weir.protocol.message.ProduceRequest) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new io.weir.protocol.message.ProduceResponse();
            }
            return null;
        });
        NetworkClient c = client(new NetworkClient.Settings(List.of(b.node(-1)), "test", 10_000, 10, 50, 10, 50,
            300_000, 300_000, 5_000, 4096, -1, 3, 1024 * 1024, 100));
        java.util.Random random = new java.util.Random(7);
        List<byte[]> sent = new ArrayList<>();
        List<CompletableFuture<ApiMessage>> fs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] records = new byte[300_000 + i];
            random.nextBytes(records);
            sent.add(records.clone());
            io.weir.protocol.message.ProduceRequest req = new io.weir.protocol.message.ProduceRequest().setAcks((short) 1)
                .setTimeoutMs(1000).setTopicData(List.of(new io.weir.protocol.message.ProduceRequest.TopicProduceData()
                    .setName("t").setPartitionData(List.of(new io.weir.protocol.message.ProduceRequest.PartitionProduceData()
                        .setIndex(i).setRecords(io.weir.protocol.Records.wrap(java.nio.ByteBuffer.wrap(records)))))));
            fs.add(c.send(b.node(-1), req, deadline(20_000)));
        }
        release.countDown();
        for (CompletableFuture<ApiMessage> f : fs) {
            assertInstanceOf(io.weir.protocol.message.ProduceResponse.class, f.get(20, TimeUnit.SECONDS));
        }
        List<FakeBroker.Received> got = b.received(ApiKeys.PRODUCE);
        assertEquals(3, got.size());
        for (FakeBroker.Received r : got) {
            io.weir.protocol.message.ProduceRequest.PartitionProduceData pd =
                ((io.weir.protocol.message.ProduceRequest) r.body()).topicData().get(0).partitionData().get(0);
            java.nio.ByteBuffer bytes = pd.records().buffer();
            byte[] arrived = new byte[bytes.remaining()];
            bytes.get(arrived);
            assertTrue(java.util.Arrays.equals(sent.get(pd.index()), arrived), "records of partition " + pd.index());
        }
    }

    @Test
    void shouldCorrelateManyConcurrentRequests() throws Exception {
        AtomicInteger n = new AtomicInteger();
        FakeBroker b = broker((h, req, conn) -> req instanceof DescribeClusterRequest
            ? new DescribeClusterResponse().setClusterId("c" + h.correlationId()) : null);
        NetworkClient c = client(settings(b.node(-1), 5_000, 2));
        List<CompletableFuture<ApiMessage>> fs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            fs.add(c.send(b.node(-1), new DescribeClusterRequest(), deadline(10_000)));
        }
        List<String> ids = new ArrayList<>();
        for (CompletableFuture<ApiMessage> f : fs) {
            ids.add(((DescribeClusterResponse) f.join()).clusterId());
            n.incrementAndGet();
        }
        // every answer went to its own request: all 50 cluster ids (echoed correlation ids) are distinct
        assertEquals(50, ids.stream().distinct().count());
    }

    @Test
    void shouldFailWithUnsupportedVersionWhenBrokerLacksTheApi() throws Exception {
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof io.weir.protocol.message.ApiVersionsRequest) {
                ApiVersionsResponse r = FakeBroker.allVersions();
                r.apiKeys().removeIf(v -> v.apiKey() == ApiKeys.DESCRIBE_CLUSTER.id());
                return r;
            }
            return null;
        });
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        Throwable t = failure(c.send(b.node(-1), new DescribeClusterRequest(), deadline(10_000)));
        assertInstanceOf(UnsupportedVersionException.class, t);
    }

    @Test
    void shouldRetryApiVersionsAtTheVersionTheBrokerNames() throws Exception {
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof io.weir.protocol.message.ApiVersionsRequest) {
                if (h.apiVersion() > 2) {
                    // an older broker: error, plus its ApiVersions range so the client can retry lower
                    return new ApiVersionsResponse().setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(List.of(
                        new ApiVersionsResponse.ApiVersion().setApiKey(ApiKeys.API_VERSIONS.id())
                            .setMinVersion((short) 0).setMaxVersion((short) 2)));
                }
                return FakeBroker.allVersions();
            }
            return req instanceof DescribeClusterRequest ? new DescribeClusterResponse().setClusterId("ok") : null;
        });
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        assertEquals("ok", ((DescribeClusterResponse) c.send(b.node(-1), new DescribeClusterRequest(), deadline(10_000))
            .join()).clusterId());
        List<FakeBroker.Received> av = b.received(ApiKeys.API_VERSIONS);
        assertEquals(2, av.size());
        assertEquals(2, av.get(1).header().apiVersion());
    }

    @Test
    void shouldReconnectAndRetryAfterRequestTimeout() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof DescribeClusterRequest) {
                // the first request is swallowed: only the request timeout can save the call
                return calls.getAndIncrement() == 0 ? FakeBroker.NO_RESPONSE : new DescribeClusterResponse().setClusterId("second");
            }
            return null;
        });
        NetworkClient c = client(settings(b.node(-1), 300, 5));
        ApiMessage resp = c.send(b.node(-1), new DescribeClusterRequest(), deadline(20_000)).join();
        assertEquals("second", ((DescribeClusterResponse) resp).clusterId());
        assertTrue(b.connectionCount() >= 2, "the timed-out connection must have been replaced");
    }

    @Test
    void shouldNotRetryOnDisconnectWhenTheBuilderForbidsIt() throws Exception {
        FakeBroker b = broker((h, req, conn) -> req instanceof DescribeClusterRequest ? FakeBroker.CLOSE : null);
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        RequestBuilder once = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.DESCRIBE_CLUSTER;
            }

            @Override
            public ApiMessage build(short version) {
                return new DescribeClusterRequest();
            }

            @Override
            public boolean retryOnDisconnect() {
                return false;
            }
        };
        Throwable t = failure(c.send(NodeSelector.fixed(b.node(-1)), once, deadline(20_000)));
        assertInstanceOf(DisconnectException.class, t);
        assertEquals(1, b.received(ApiKeys.DESCRIBE_CLUSTER).size());
    }

    @Test
    void shouldRetryRetriableTopLevelErrors() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        FakeBroker b = broker((h, req, conn) -> {
            if (req instanceof DescribeClusterRequest) {
                return calls.getAndIncrement() < 2
                    ? new DescribeClusterResponse().setErrorCode(Errors.NOT_CONTROLLER.code())
                    : new DescribeClusterResponse().setClusterId("third");
            }
            return null;
        });
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        RequestBuilder builder = new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.DESCRIBE_CLUSTER;
            }

            @Override
            public ApiMessage build(short version) {
                return new DescribeClusterRequest();
            }

            @Override
            public Errors retriableError(ApiMessage response) {
                return Errors.forCode(((DescribeClusterResponse) response).errorCode());
            }
        };
        DescribeClusterResponse r = (DescribeClusterResponse) c.send(NodeSelector.fixed(b.node(-1)), builder,
            deadline(20_000)).join();
        assertEquals("third", r.clusterId());
        assertEquals(3, b.received(ApiKeys.DESCRIBE_CLUSTER).size());
    }

    @Test
    void shouldRejectOversizedResponseFrames() throws Exception {
        FakeBroker b = broker((h, req, conn) -> req instanceof DescribeClusterRequest ? FakeBroker.RAW : null);
        // a size prefix of 1 GiB, far above the client's 1 MiB limit
        b.rawReply(new byte[] {0x40, 0, 0, 0});
        NetworkClient c = client(settings(b.node(-1), 5_000, 5));
        Throwable t = failure(c.send(b.node(-1), new DescribeClusterRequest(), deadline(1_500)));
        // either the last disconnect itself (no time left to retry) or a timeout naming it
        assertInstanceOf(io.weir.protocol.ApiException.class, t);
        assertNotNull(t.getMessage());
        assertTrue(t.getMessage().contains("exceeds the maximum"), t.getMessage());
    }

    @Test
    void shouldTimeOutNamingTheConnectionFailureWhenNoBrokerListens() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            deadPort = s.getLocalPort();
        }
        NetworkClient c = client(settings(new Node(-1, "127.0.0.1", deadPort), 5_000, 5));
        Throwable t = failure(c.send(NodeSelector.leastLoaded(), RequestBuilder.of(new DescribeClusterRequest()),
            deadline(500)));
        assertInstanceOf(TimeoutException.class, t);
        assertTrue(t.getMessage().contains("127.0.0.1:" + deadPort), t.getMessage());
    }

    /** A call that routes its own retries (the producer's Produce), as {@link RequestBuilder#waitForConnection()} false. */
    private static RequestBuilder mayNotWait() {
        return new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return ApiKeys.DESCRIBE_CLUSTER;
            }

            @Override
            public ApiMessage build(short version) {
                return new DescribeClusterRequest();
            }

            @Override
            public boolean retryOnDisconnect() {
                return false;
            }

            @Override
            public boolean waitForConnection() {
                return false;
            }
        };
    }

    @Test
    void shouldFailACallThatMayNotWaitAsSoonAsItsNodeRefusesConnections() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            deadPort = s.getLocalPort();
        }
        Node dead = new Node(1, "127.0.0.1", deadPort);
        // deadlines far beyond the wait below: only a refused connect can end these calls in time
        NetworkClient c = client(settings(dead, 60_000, 5));
        CompletableFuture<ApiMessage> first = c.send(NodeSelector.fixed(dead), mayNotWait(), deadline(60_000));
        ExecutionException e = assertThrows(ExecutionException.class, () -> first.get(20, TimeUnit.SECONDS));
        assertInstanceOf(DisconnectException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("127.0.0.1:" + deadPort), e.getCause().getMessage());
        // sent again while the node backs off: fails without a connect attempt
        CompletableFuture<ApiMessage> second = c.send(NodeSelector.fixed(dead), mayNotWait(), deadline(60_000));
        e = assertThrows(ExecutionException.class, () -> second.get(20, TimeUnit.SECONDS));
        assertInstanceOf(DisconnectException.class, e.getCause());
    }

    @Test
    void shouldFailACallThatMayNotWaitWhenItsNodeIsNotInMetadata() throws Exception {
        FakeBroker[] ref = new FakeBroker[1];
        FakeBroker b = broker((h, req, conn) -> req instanceof MetadataRequest ? selfMetadata(ref[0]) : null);
        ref[0] = b;
        NetworkClient c = client(settings(b.node(-1), 60_000, 5));
        c.refreshMetadata(deadline(20_000)).join();
        CompletableFuture<ApiMessage> f = c.send(NodeSelector.node(99), mayNotWait(), deadline(60_000));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
        assertInstanceOf(DisconnectException.class, e.getCause());
    }

    @Test
    void shouldFailOutstandingCallsOnClose() throws Exception {
        FakeBroker b = broker((h, req, conn) -> req instanceof DescribeClusterRequest ? FakeBroker.NO_RESPONSE : null);
        NetworkClient c = new NetworkClient(settings(b.node(-1), 60_000, 5), Time.SYSTEM);
        CompletableFuture<ApiMessage> f = c.send(b.node(-1), new DescribeClusterRequest(), deadline(60_000));
        c.close(0);
        assertInstanceOf(DisconnectException.class, failure(f));
        assertInstanceOf(IllegalStateException.class, failure(c.send(b.node(-1), new DescribeClusterRequest(),
            deadline(1_000))));
    }

    /**
     * A clock that fails on the client's I/O thread while {@code failing} is set, and records the
     * sleeps that thread asks for.
     */
    private static final class FailingTime implements Time {
        volatile boolean failing;
        final List<Long> sleeps = java.util.Collections.synchronizedList(new ArrayList<>());

        private boolean onIoThread() {
            return Thread.currentThread().getName().startsWith("weir-network-");
        }

        @Override
        public long milliseconds() {
            if (failing && onIoThread()) {
                throw new IllegalStateException("injected clock failure");
            }
            return Time.SYSTEM.milliseconds();
        }

        @Override
        public long nanoseconds() {
            return Time.SYSTEM.nanoseconds();
        }

        @Override
        public void sleep(long ms) {
            if (onIoThread()) {
                sleeps.add(ms);
            }
            Time.SYSTEM.sleep(ms);
        }
    }

    @Test
    void shouldBackOffWhenTheIoLoopKeepsFailingAndRecoverAfterwards() throws Exception {
        FakeBroker b = broker((h, req, conn) -> req instanceof DescribeClusterRequest
            ? new DescribeClusterResponse().setClusterId("after") : null);
        FailingTime time = new FailingTime();
        NetworkClient c = new NetworkClient(settings(b.node(-1), 5_000, 5), time);
        toClose.add(c);
        time.failing = true;
        long waitUntil = deadline(30_000);
        while (time.sleeps.size() < 6 && System.currentTimeMillis() < waitUntil) {
            Thread.sleep(20);
        }
        time.failing = false;
        List<Long> sleeps;
        synchronized (time.sleeps) {
            sleeps = new ArrayList<>(time.sleeps);
        }
        assertTrue(sleeps.size() >= 6, "the failing loop backed off between iterations: " + sleeps);
        assertTrue(sleeps.get(0) >= 8, "first wait about 10 ms: " + sleeps);
        for (int i = 1; i < 6; i++) {
            // doubling with +/-20% jitter: never below the previous nominal value's lower bound
            assertTrue(sleeps.get(i) * 1.25 >= sleeps.get(i - 1), "waits grow: " + sleeps);
        }
        assertTrue(sleeps.get(5) >= 200, "waits grow exponentially: " + sleeps);
        DescribeClusterResponse dc = (DescribeClusterResponse) c.send(NodeSelector.leastLoaded(),
            RequestBuilder.of(new DescribeClusterRequest()), deadline(10_000)).join();
        assertEquals("after", dc.clusterId());
    }

    /**
     * A client whose metadata is fresh and whose connection to node 7 is ready, so that nothing but the
     * test's own calls (and the attached task) makes its I/O loop go round.
     */
    private NetworkClient readyClient(FakeBroker b) {
        NetworkClient c = client(settings(b.node(-1), 30_000, 5));
        c.refreshMetadata(deadline(20_000)).join();
        c.send(7, new DescribeClusterRequest(), deadline(20_000)).join();
        return c;
    }

    private FakeBroker describingBroker() throws IOException {
        FakeBroker[] ref = new FakeBroker[1];
        FakeBroker b = broker((h, req, conn) -> req instanceof MetadataRequest ? selfMetadata(ref[0])
            : req instanceof DescribeClusterRequest ? new DescribeClusterResponse().setClusterId("dc") : null);
        ref[0] = b;
        return b;
    }

    @Test
    void shouldSendATasksCallInTheIterationThatQueuedItWithoutASelectorWakeup() throws Exception {
        FakeBroker b = describingBroker();
        NetworkClient c = readyClient(b);
        AtomicInteger polls = new AtomicInteger();
        CompletableFuture<Boolean> answered = new CompletableFuture<>();
        CompletableFuture<long[]> wakeupsAroundSend = new CompletableFuture<>();
        List<Integer> inFlightAtLaterPolls = new CopyOnWriteArrayList<>();
        c.attach(nowMs -> {
            if (polls.incrementAndGet() == 1) {
                long before = c.selectorWakeups();
                c.send(NodeSelector.node(7), RequestBuilder.of(new DescribeClusterRequest()), nowMs + 20_000)
                    .whenComplete((r, e) -> answered.complete(e == null));
                c.wakeup(); // on the I/O thread: nothing to wake
                wakeupsAroundSend.complete(new long[] {before, c.selectorWakeups()});
            } else if (!answered.isDone()) {
                // a later iteration (the select may end for other reasons under load): the call must already be
                // on the connection, not still queued for this iteration to take
                inFlightAtLaterPolls.add(c.inFlightCount(7));
            }
            return 10_000; // the loop may wait for I/O as long as it likes: only the answer should wake it
        });
        assertTrue(answered.get(20, TimeUnit.SECONDS));
        // the call left in the iteration that queued it: at every later poll before the answer it was in flight
        assertFalse(inFlightAtLaterPolls.contains(0), "polls before the answer saw it in flight: " + inFlightAtLaterPolls);
        long[] wakeups = wakeupsAroundSend.get(20, TimeUnit.SECONDS);
        assertEquals(wakeups[0], wakeups[1], "send() and wakeup() on the I/O thread cost no selector wakeup");
    }

    @Test
    void shouldPollATaskThatReturnedZeroAgainWithoutWaitingInSelect() throws Exception {
        FakeBroker b = describingBroker();
        NetworkClient c = readyClient(b);
        AtomicInteger polls = new AtomicInteger();
        CompletableFuture<Long> selectNowsAtFirst = new CompletableFuture<>();
        CompletableFuture<Long> selectNowsAtSecond = new CompletableFuture<>();
        c.attach(nowMs -> {
            int n = polls.incrementAndGet();
            if (n == 1) {
                selectNowsAtFirst.complete(c.immediateSelects());
                return 0; // more to do at once (the producer's sender: a response handler it queued for itself)
            }
            if (n == 2) {
                selectNowsAtSecond.complete(c.immediateSelects());
            }
            return 10_000;
        });
        long first = selectNowsAtFirst.get(20, TimeUnit.SECONDS);
        // one select per iteration: the one between the 0 and the next poll was a selectNow (before: select(1),
        // up to 1 ms)
        assertEquals(first + 1, selectNowsAtSecond.get(20, TimeUnit.SECONDS),
            "the select between the 0 and the next poll did not wait");
    }

    @Test
    void shouldCoalesceWakeupsFromOtherThreadsIntoOneSelectorWakeupPerIteration() throws Exception {
        FakeBroker b = describingBroker();
        NetworkClient c = readyClient(b);
        AtomicInteger polls = new AtomicInteger();
        CountDownLatch inSecondPoll = new CountDownLatch(1);
        CountDownLatch releaseSecondPoll = new CountDownLatch(1);
        CountDownLatch thirdPoll = new CountDownLatch(1);
        CountDownLatch fourthPoll = new CountDownLatch(1);
        c.attach(nowMs -> {
            int n = polls.incrementAndGet();
            if (n == 2) {
                inSecondPoll.countDown();
                try {
                    releaseSecondPoll.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (n == 3) {
                thirdPoll.countDown();
            } else if (n == 4) {
                fourthPoll.countDown();
            }
            return 10_000;
        });
        c.wakeup(); // a second iteration
        assertTrue(inSecondPoll.await(20, TimeUnit.SECONDS));
        long before = c.selectorWakeups();
        for (int i = 0; i < 1_000; i++) {
            c.wakeup();
        }
        assertEquals(before + 1, c.selectorWakeups(), "a burst of wakeups while the loop runs wakes the selector once");
        releaseSecondPoll.countDown();
        assertTrue(thirdPoll.await(20, TimeUnit.SECONDS), "the burst made the loop go round again");
        long afterThird = c.selectorWakeups();
        c.wakeup();
        assertTrue(fourthPoll.await(20, TimeUnit.SECONDS), "a wakeup after the loop went round wakes it again");
        assertEquals(afterThird + 1, c.selectorWakeups());
    }

    @Test
    void shouldKeepServingCallsAndCallingTheTaskWhenTheTaskThrows() throws Exception {
        FakeBroker b = describingBroker();
        NetworkClient c = readyClient(b);
        AtomicInteger polls = new AtomicInteger();
        CountDownLatch calledAgain = new CountDownLatch(3);
        CompletableFuture<CompletableFuture<ApiMessage>> sentBeforeThrowing = new CompletableFuture<>();
        c.attach(nowMs -> {
            if (polls.incrementAndGet() == 1) {
                sentBeforeThrowing.complete(c.send(7, new DescribeClusterRequest(), nowMs + 20_000));
            } else {
                calledAgain.countDown();
            }
            throw new IllegalStateException("injected task failure");
        });
        DescribeClusterResponse fromTask = (DescribeClusterResponse) sentBeforeThrowing.get(20, TimeUnit.SECONDS)
            .get(20, TimeUnit.SECONDS);
        assertEquals("dc", fromTask.clusterId(), "the call the task queued before it threw still went out");
        DescribeClusterResponse fromCaller = (DescribeClusterResponse) c.send(7, new DescribeClusterRequest(),
            deadline(20_000)).get(20, TimeUnit.SECONDS);
        assertEquals("dc", fromCaller.clusterId(), "other threads' calls are served while the task keeps failing");
        assertTrue(calledAgain.await(20, TimeUnit.SECONDS), "the failing task is called again (after a backoff)");
        assertThrows(IllegalStateException.class, () -> c.attach(nowMs -> 0), "one task per client");
    }

    @Test
    void shouldTellTheTaskOnceWhenTheClientIsClosedFromInsideItsPoll() throws Exception {
        FakeBroker b = describingBroker();
        NetworkClient c = readyClient(b);
        AtomicInteger pollsAfterClose = new AtomicInteger();
        AtomicInteger told = new AtomicInteger();
        CompletableFuture<Boolean> toldOnIoThread = new CompletableFuture<>();
        c.attach(new NetworkClient.IoTask() {
            private boolean closed;

            @Override
            public long poll(long nowMs) {
                if (closed) {
                    pollsAfterClose.incrementAndGet();
                } else {
                    closed = true;
                    c.close(0); // on the I/O thread: returns at once, and the loop stops before the next poll
                }
                return 10_000;
            }

            @Override
            public void onClientClosed(long nowMs) {
                told.incrementAndGet();
                toldOnIoThread.complete(c.inIoThread());
            }
        });
        assertTrue(toldOnIoThread.get(20, TimeUnit.SECONDS), "the task is told on the I/O thread");
        c.close(); // joins the I/O thread
        assertFalse(c.isAlive());
        assertEquals(1, told.get(), "told once");
        assertEquals(0, pollsAfterClose.get(), "never polled after the close");
    }

    @Test
    void shouldTellTheTaskWhenTheLoopDiesOfAnError() throws Exception {
        FakeBroker b = describingBroker();
        NetworkClient c = readyClient(b);
        CompletableFuture<Void> told = new CompletableFuture<>();
        c.attach(new NetworkClient.IoTask() {
            @Override
            public long poll(long nowMs) {
                throw new AssertionError("injected: an Error ends the I/O thread");
            }

            @Override
            public void onClientClosed(long nowMs) {
                told.complete(null);
            }
        });
        told.get(20, TimeUnit.SECONDS); // the task still gets to settle what it holds
        c.close(); // joins the I/O thread
        assertFalse(c.isAlive(), "an owner waiting for the I/O thread can see it is gone");
    }
}
