package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.common.Time;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.LeaderAndIsrResponse;
import io.weir.protocol.message.StopReplicaResponse;
import io.weir.protocol.message.UpdateMetadataResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The controller's channel to the brokers (Kafka's {@code ControllerChannelManager}): one queue per live
 * broker, drained in order with at most one request in flight per broker, over the controller's own
 * {@link NetworkClient} (one connection per broker). A request that fails on the network or times out is
 * sent again, first in its queue, while its broker stays registered under the same broker epoch and this
 * controller's term lasts; a broker that leaves (or registers again: a new epoch) loses its queue, and a
 * new term ({@link #beginTerm}) or its end ({@link #endTerm}) drops every queue, as the next controller
 * sends the full state anyway. Answers are logged; a refused request is not retried (STALE_BROKER_EPOCH:
 * the broker's new registration brings it the full state; STALE_CONTROLLER_EPOCH: this controller was
 * deposed).
 *
 * <p>Thread-safe; the network client's I/O thread completes sends and takes the next request.
 */
public final class ControllerChannelManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControllerChannelManager.class);

    private final NetworkClient client;
    private final Time time;
    private final long requestTimeoutMs;
    // guarded by this
    private final Map<Integer, BrokerQueue> queues = new HashMap<>();
    private int term = -1;
    private boolean closed;

    /** One broker's queue under one registration. */
    private static final class BrokerQueue {
        final Node node;
        final long brokerEpoch;
        final ArrayDeque<ApiMessage> pending = new ArrayDeque<>();
        boolean inFlight;

        BrokerQueue(Node node, long brokerEpoch) {
            this.node = node;
            this.brokerEpoch = brokerEpoch;
        }
    }

    public ControllerChannelManager(NetworkClient client, Time time, long requestTimeoutMs) {
        this.client = client;
        this.time = time;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    /** Starts sending for controller epoch {@code epoch}: queues of an earlier term are dropped. */
    public synchronized void beginTerm(int epoch) {
        queues.clear();
        term = epoch;
    }

    /** Stops sending: this broker is no longer the controller. */
    public synchronized void endTerm() {
        queues.clear();
        term = -1;
    }

    /**
     * The registered brokers: a broker not among them, or registered again under another epoch or
     * address, loses its queue (a new one starts empty).
     */
    public synchronized void setLiveBrokers(Collection<BrokerRegistration> brokers) {
        Map<Integer, BrokerRegistration> live = new HashMap<>();
        for (BrokerRegistration b : brokers) {
            live.put(b.id(), b);
        }
        queues.entrySet().removeIf(e -> {
            BrokerRegistration b = live.get(e.getKey());
            return b == null || b.epoch() != e.getValue().brokerEpoch || !b.host().equals(e.getValue().node.host())
                || b.port() != e.getValue().node.port();
        });
        for (BrokerRegistration b : live.values()) {
            queues.computeIfAbsent(b.id(), id -> new BrokerQueue(new Node(b.id(), b.host(), b.port()), b.epoch()));
        }
    }

    /**
     * Queues {@code request} for broker {@code brokerId} in term {@code epoch}; dropped when that term is
     * not the current one or the broker is not live.
     */
    public void send(int epoch, int brokerId, ApiMessage request) {
        BrokerQueue q;
        synchronized (this) {
            q = queues.get(brokerId);
            if (closed || epoch != term || q == null) {
                log.debug("not sending {} to broker {}: term {} (current {}), broker live: {}",
                    request.getClass().getSimpleName(), brokerId, epoch, term, q != null);
                return;
            }
            q.pending.add(request);
            if (q.inFlight) {
                return;
            }
            q.inFlight = true;
        }
        sendNext(epoch, brokerId, q);
    }

    /** Whether nothing is queued or in flight for any broker (tests wait for the channel to drain). */
    public synchronized boolean isIdle() {
        for (BrokerQueue q : queues.values()) {
            if (q.inFlight || !q.pending.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private void sendNext(int epoch, int brokerId, BrokerQueue q) {
        ApiMessage request;
        synchronized (this) {
            request = q.pending.peek();
            if (request == null || closed || term != epoch || queues.get(brokerId) != q) {
                q.inFlight = false;
                return;
            }
        }
        CompletableFuture<ApiMessage> f;
        try {
            f = client.send(q.node, request, time.milliseconds() + requestTimeoutMs);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((response, failure) -> {
            boolean retry = false;
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
                retry = cause instanceof TimeoutException || cause instanceof io.weir.protocol.client.DisconnectException;
                log.info("{} to broker {} failed{}: {}", request.getClass().getSimpleName(), brokerId,
                    retry ? " (sending it again while the broker is live)" : "", cause.toString());
            } else {
                logAnswer(brokerId, request, response);
            }
            synchronized (this) {
                if (!retry) {
                    q.pending.poll();
                }
            }
            sendNext(epoch, brokerId, q);
        });
    }

    private static void logAnswer(int brokerId, ApiMessage request, ApiMessage response) {
        short code;
        if (response instanceof LeaderAndIsrResponse r) {
            code = r.errorCode();
        } else if (response instanceof UpdateMetadataResponse r) {
            code = r.errorCode();
        } else if (response instanceof StopReplicaResponse r) {
            code = r.errorCode();
        } else {
            code = Errors.NONE.code();
        }
        Errors error = Errors.forCode(code);
        if (error == Errors.NONE) {
            log.debug("broker {} applied {}", brokerId, request.getClass().getSimpleName());
        } else {
            log.info("broker {} refused {}: {}", brokerId, request.getClass().getSimpleName(), error);
        }
    }

    /** Drops every queue; the network client is the caller's to close. */
    @Override
    public synchronized void close() {
        closed = true;
        queues.clear();
    }
}
