package io.weir.broker.server;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.ExponentialBackoff;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.client.RequestBuilder;
import io.weir.protocol.message.AlterPartitionRequest;
import io.weir.protocol.message.AlterPartitionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Function;

/**
 * The broker's channel to the controller for ISR changes (Kafka's {@code AlterPartitionManager}): the
 * real {@link AlterPartitionSender}. Submitted changes wait in a queue; each round sends all of them
 * in one AlterPartition request to the controller named by the metadata image ({@code /controller}
 * and that broker's registered endpoint), with at most one request outstanding.
 *
 * <p>Retries: a lost connection, a timed-out request, no known controller, or a top-level error
 * (NOT_CONTROLLER, STALE_BROKER_EPOCH while the controller's view of this broker's registration
 * catches up) puts the whole batch back, and the next round — after an exponential backoff — looks the
 * controller up again, so a change survives a controller move. A partition answered NOT_CONTROLLER (the
 * controller's metadata is behind the leader's) is retried the same way, up to
 * {@link #MAX_NOT_CONTROLLER_ROUNDS} rounds, then handed to the caller. Any other partition error
 * completes that partition's future exceptionally with an {@link ApiException} carrying it; success
 * completes it with the state the controller wrote (its {@code zkVersion} is the new partition
 * epoch; its {@code controllerEpoch} is -1, which the response does not carry).
 *
 * <p>At most one change per partition is outstanding: a second submit for a partition whose change
 * is still queued or in flight fails at once with OPERATION_NOT_ATTEMPTED (as Kafka's does), and the
 * caller submits again once the first completes. Futures complete on this manager's own thread
 * ({@code weir-alter-partition-<id>}), never on the network thread, so a dependent action may take a
 * lock; it must not block for long, since it delays the next round. {@link #close()} fails what is
 * still pending with an {@link IllegalStateException}.
 *
 * <p>Version 3 sends each new ISR member's broker epoch as this broker's metadata image knows it (-1
 * when the member is not registered), so the controller refuses a member that re-registered since.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread and never blocks.
 */
public final class AlterPartitionManager implements AlterPartitionSender, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AlterPartitionManager.class);
    /**
     * Rounds a partition answered NOT_CONTROLLER is retried before the caller gets that error: enough
     * for a newly elected controller's metadata to catch up, bounded so a change based on a state the
     * controller never wrote does not stay outstanding for ever.
     */
    static final int MAX_NOT_CONTROLLER_ROUNDS = 10;

    /** One submitted change. Immutable. */
    /** {@code memberEpochs}: the broker epochs the leader saw ISR members fetch with (KIP-903), where known. */
    private record Item(TopicPartition tp, UUID topicId, int leaderEpoch, int partitionEpoch, List<Integer> newIsr,
                        Map<Integer, Long> memberEpochs, CompletableFuture<PartitionState> future) {
    }

    /** The outcome of one item in a round, decided under the lock and applied to the future outside it. */
    private record Outcome(Item item, PartitionState state, Throwable error) {
    }

    private final int brokerId;
    private final LongSupplier brokerEpoch;
    private final MetadataStore metadata;
    private final Function<Node, NetworkClient> clientFactory;
    /** Made at the first send (a broker that never changes an ISR opens no connection). */
    private volatile NetworkClient client;
    private final Time time;
    private final int requestTimeoutMs;
    private final ExponentialBackoff backoff;
    private final ScheduledExecutorService executor;
    private final Object lock = new Object();
    // guarded by lock
    private final Map<TopicPartition, Item> items = new HashMap<>();
    private final LinkedHashMap<TopicPartition, Item> unsent = new LinkedHashMap<>();
    /** Rounds in which the controller answered NOT_CONTROLLER for a partition still outstanding. */
    private final Map<TopicPartition, Integer> notControllerRounds = new HashMap<>();
    private boolean inFlight;
    private boolean retryScheduled;
    private int failedRounds;
    private boolean started;
    private boolean closed;

    /**
     * @param brokerId         this broker
     * @param brokerEpoch      this broker's current epoch (its registration's czxid)
     * @param metadata         where the controller, its endpoint and topic ids are looked up
     * @param clientFactory    makes the client the requests go through at the first send, given the
     *                         controller it goes to (a bootstrap node for the client's own metadata);
     *                         {@link #close()} closes the client
     * @param requestTimeoutMs how long one round waits for its response before retrying
     * @param retryBackoffMs   the first retry's wait, doubling per failed round up to {@code retryBackoffMaxMs}
     */
    public AlterPartitionManager(int brokerId, LongSupplier brokerEpoch, MetadataStore metadata,
                                 Function<Node, NetworkClient> clientFactory, Time time, int requestTimeoutMs,
                                 long retryBackoffMs, long retryBackoffMaxMs) {
        this.brokerId = brokerId;
        this.brokerEpoch = brokerEpoch;
        this.metadata = metadata;
        this.clientFactory = clientFactory;
        this.time = time;
        this.requestTimeoutMs = requestTimeoutMs;
        this.backoff = new ExponentialBackoff(retryBackoffMs, retryBackoffMaxMs, ExponentialBackoff.DEFAULT_JITTER);
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "weir-alter-partition-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        this.executor = e;
    }

    /**
     * The broker's manager: requests time out after 30 s (Kafka's {@code controller.socket.timeout.ms}),
     * retries wait 100 ms doubling to 1 s. It may be made before the broker registers (changes submitted
     * then wait for {@link #start()}); its client is made at the first send.
     */
    public static AlterPartitionManager create(BrokerConfig config, LongSupplier brokerEpoch, MetadataStore metadata,
                                               Time time) {
        int id = config.brokerId();
        return new AlterPartitionManager(id, brokerEpoch, metadata, controller -> new NetworkClient(
            NetworkClient.Settings.defaults(List.of(new Node(-1, controller.host(), controller.port())),
                "broker-" + id + "-alter-partition"), time), time, 30_000, 100, 1_000);
    }

    /** Starts sending; changes submitted before wait until then. */
    public void start() {
        synchronized (lock) {
            started = true;
        }
        execute(this::maybeSend);
    }

    @Override
    public CompletableFuture<PartitionState> submit(TopicPartition tp, int leaderEpoch, int partitionEpoch,
                                                    List<Integer> newIsr) {
        return submit(tp, leaderEpoch, partitionEpoch, newIsr, Map.of());
    }

    @Override
    public CompletableFuture<PartitionState> submit(TopicPartition tp, int leaderEpoch, int partitionEpoch,
                                                    List<Integer> newIsr, Map<Integer, Long> memberEpochs) {
        CompletableFuture<PartitionState> future = new CompletableFuture<>();
        TopicMetadata topic = metadata.topics().get(tp.topic());
        if (topic == null) {
            future.completeExceptionally(Errors.UNKNOWN_TOPIC_OR_PARTITION.exception("topic " + tp.topic()
                + " is not in this broker's metadata"));
            return future;
        }
        Item item = new Item(tp, topic.topicId(), leaderEpoch, partitionEpoch, List.copyOf(newIsr),
            Map.copyOf(memberEpochs), future);
        synchronized (lock) {
            if (closed) {
                future.completeExceptionally(new IllegalStateException("the AlterPartition manager is closed"));
                return future;
            }
            if (items.containsKey(tp)) {
                future.completeExceptionally(Errors.OPERATION_NOT_ATTEMPTED.exception("an ISR change of " + tp
                    + " is already outstanding"));
                return future;
            }
            items.put(tp, item);
            unsent.put(tp, item);
        }
        execute(this::maybeSend);
        return future;
    }

    /** Sends the queued changes if nothing is in flight, no retry is waiting, and a controller is known. */
    private void maybeSend() {
        List<Item> batch;
        Node controller;
        synchronized (lock) {
            if (!started || closed || inFlight || retryScheduled || unsent.isEmpty()) {
                return;
            }
            controller = controllerNode();
            if (controller == null) {
                scheduleRetryLocked("no controller is known");
                return;
            }
            batch = new ArrayList<>(unsent.values());
            unsent.clear();
            inFlight = true;
        }
        long epoch = brokerEpoch.getAsLong();
        Map<Integer, Long> epochs = new HashMap<>();
        for (BrokerRegistration b : metadata.liveBrokers()) {
            epochs.put(b.id(), b.epoch());
        }
        RequestBuilder request = new AlterPartitionBuilder(buildRequest(batch, epoch, epochs, (short) 3),
            buildRequest(batch, epoch, epochs, (short) 2));
        CompletableFuture<ApiMessage> response;
        try {
            if (client == null) { // only this manager's thread sends
                client = clientFactory.apply(controller);
            }
            // the controller chosen for this round first; looked up again if the client must choose again
            // (the connection failed before the request went out), so such a request follows a controller move
            Node[] chosen = {controller};
            NodeSelector target = (cluster, c) -> {
                Node n = chosen[0];
                chosen[0] = null;
                return n != null ? n : controllerNode();
            };
            response = client.send(target, request, time.milliseconds() + requestTimeoutMs);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.whenComplete((r, err) -> execute(() -> onResponse(batch, controller, (AlterPartitionResponse) r, err)));
    }

    /** The controller's endpoint from the image, or null if there is none or it is not registered. */
    private Node controllerNode() {
        int id = metadata.controllerId();
        if (id < 0) {
            return null;
        }
        for (BrokerRegistration b : metadata.liveBrokers()) {
            if (b.id() == id) {
                return new Node(b.id(), b.host(), b.port(), b.rack());
            }
        }
        return null;
    }

    private AlterPartitionRequest buildRequest(List<Item> batch, long epoch, Map<Integer, Long> epochs, short version) {
        Map<UUID, List<AlterPartitionRequest.PartitionData>> byTopic = new LinkedHashMap<>();
        for (Item item : batch) {
            AlterPartitionRequest.PartitionData p = new AlterPartitionRequest.PartitionData()
                .setPartitionIndex(item.tp().partition()).setLeaderEpoch(item.leaderEpoch())
                .setPartitionEpoch(item.partitionEpoch()).setLeaderRecoveryState((byte) 0);
            if (version >= 3) {
                List<AlterPartitionRequest.BrokerState> isr = new ArrayList<>();
                for (int id : item.newIsr()) {
                    // the epoch the member fetched with outranks its registration's: a replica that restarted
                    // since that fetch (and may have lost what it fetched) must not be taken back on it
                    long fetched = item.memberEpochs().getOrDefault(id, -1L);
                    isr.add(new AlterPartitionRequest.BrokerState().setBrokerId(id)
                        .setBrokerEpoch(fetched >= 0 ? fetched : epochs.getOrDefault(id, -1L)));
                }
                p.setNewIsrWithEpochs(isr);
            } else {
                p.setNewIsr(item.newIsr());
            }
            byTopic.computeIfAbsent(item.topicId(), k -> new ArrayList<>()).add(p);
        }
        List<AlterPartitionRequest.TopicData> topics = new ArrayList<>();
        byTopic.forEach((id, parts) -> topics.add(new AlterPartitionRequest.TopicData().setTopicId(id).setPartitions(parts)));
        return new AlterPartitionRequest().setBrokerId(brokerId).setBrokerEpoch(epoch).setTopics(topics);
    }

    /** Runs on this manager's thread: decides each item's outcome, then completes the futures. */
    private void onResponse(List<Item> batch, Node controller, AlterPartitionResponse response, Throwable error) {
        List<Outcome> outcomes = new ArrayList<>();
        synchronized (lock) {
            inFlight = false;
            if (closed) {
                return; // close() failed them
            }
            Errors topLevel = error != null ? null : Errors.forCode(response.errorCode());
            if (error != null || topLevel != Errors.NONE) {
                String why = error != null ? "the request to the controller (broker " + controller.id()
                    + " first tried) failed: " + error : "the controller answered " + topLevel;
                requeueLocked(batch);
                scheduleRetryLocked(why);
                return;
            }
            Map<UUID, Map<Integer, AlterPartitionResponse.PartitionData>> results = new HashMap<>();
            for (AlterPartitionResponse.TopicData t : response.topics()) {
                for (AlterPartitionResponse.PartitionData p : t.partitions()) {
                    results.computeIfAbsent(t.topicId(), k -> new HashMap<>()).put(p.partitionIndex(), p);
                }
            }
            List<Item> retry = new ArrayList<>();
            for (Item item : batch) {
                AlterPartitionResponse.PartitionData p = results.getOrDefault(item.topicId(), Map.of())
                    .get(item.tp().partition());
                Errors e = p == null ? Errors.UNKNOWN_SERVER_ERROR : Errors.forCode(p.errorCode());
                if (e == Errors.NOT_CONTROLLER && notControllerRounds.merge(item.tp(), 1, Integer::sum)
                    <= MAX_NOT_CONTROLLER_ROUNDS) {
                    retry.add(item);
                    continue;
                }
                items.remove(item.tp());
                notControllerRounds.remove(item.tp());
                if (p == null) {
                    outcomes.add(new Outcome(item, null, e.exception("the controller did not answer for "
                        + item.tp())));
                } else if (e != Errors.NONE) {
                    outcomes.add(new Outcome(item, null, e.exception("the controller refused the ISR "
                        + item.newIsr() + " of " + item.tp() + ": " + e.message())));
                } else {
                    outcomes.add(new Outcome(item, new PartitionState(p.leaderId(), p.leaderEpoch(), p.isr(), -1,
                        p.partitionEpoch()), null));
                }
            }
            if (retry.isEmpty()) {
                failedRounds = 0;
            } else {
                requeueLocked(retry);
                scheduleRetryLocked("the controller answered NOT_CONTROLLER for " + retry.size() + " partitions");
            }
        }
        for (Outcome o : outcomes) {
            if (o.error() != null) {
                o.item().future().completeExceptionally(o.error());
            } else {
                o.item().future().complete(o.state());
            }
        }
        maybeSend();
    }

    /** Puts {@code batch} back in front of what was submitted meanwhile, keeping submission order. */
    private void requeueLocked(List<Item> batch) {
        LinkedHashMap<TopicPartition, Item> later = new LinkedHashMap<>(unsent);
        unsent.clear();
        for (Item item : batch) {
            unsent.put(item.tp(), item);
        }
        unsent.putAll(later);
    }

    private void scheduleRetryLocked(String why) {
        long waitMs = backoff.backoffMs(failedRounds);
        failedRounds++;
        retryScheduled = true;
        if (Integer.bitCount(failedRounds) == 1) { // the 1st, 2nd, 4th, 8th... failed round in a row
            log.info("AlterPartition of {} partitions not done ({}); retrying in {} ms (failed round {} in a row)",
                unsent.size(), why, waitMs, failedRounds);
        } else {
            log.debug("AlterPartition of {} partitions not done ({}); retrying in {} ms", unsent.size(), why, waitMs);
        }
        try {
            executor.schedule(() -> {
                synchronized (lock) {
                    retryScheduled = false;
                }
                maybeSend();
            }, waitMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            retryScheduled = false; // closing
        }
    }

    private void execute(Runnable r) {
        try {
            executor.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.error("AlterPartition manager step failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            // closed: close() failed what was pending
        }
    }

    /** Stops sending, fails every change not yet answered and closes the client. */
    @Override
    public void close() {
        List<Item> pending;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            pending = new ArrayList<>(items.values());
            items.clear();
            unsent.clear();
            notControllerRounds.clear();
        }
        executor.shutdownNow();
        try {
            // a send running now may still make the client: wait for it, so the client is closed below
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Item item : pending) {
            item.future().completeExceptionally(new IllegalStateException("the AlterPartition manager of broker "
                + brokerId + " closed before the controller answered the ISR change of " + item.tp()));
        }
        NetworkClient c = client;
        if (c != null) {
            c.close(0);
        }
    }

    /** Sends v3 (with broker epochs) or v2, whichever the controller supports; the manager does its own retries. */
    private record AlterPartitionBuilder(AlterPartitionRequest v3, AlterPartitionRequest v2) implements RequestBuilder {
        @Override
        public ApiKeys api() {
            return ApiKeys.ALTER_PARTITION;
        }

        @Override
        public ApiMessage build(short version) {
            return version >= 3 ? v3 : v2;
        }

        @Override
        public boolean retryOnDisconnect() {
            return false; // the next round looks the controller up again
        }
    }
}
