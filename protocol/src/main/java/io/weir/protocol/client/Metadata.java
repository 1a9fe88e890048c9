package io.weir.protocol.client;

import io.weir.protocol.Errors;
import io.weir.protocol.message.MetadataResponse;
import io.weir.protocol.message.MetadataResponse.MetadataResponseBroker;
import io.weir.protocol.message.MetadataResponse.MetadataResponsePartition;
import io.weir.protocol.message.MetadataResponse.MetadataResponseTopic;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The client's metadata cache: a {@link Cluster} snapshot plus the rules for when to refresh it.
 *
 * <p>A refresh is due when someone asked for one ({@link #requestUpdate()}, e.g. after
 * NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE or a disconnect, see
 * {@link #requestUpdateForError}), when a new topic of interest was added, when the last update
 * left partitions without a leader, or when the snapshot is older than {@code metadata.max.age.ms}.
 * Refreshes are spaced by {@code retry.backoff.ms}, growing exponentially up to
 * {@code retry.backoff.max.ms} while they keep failing, so a flapping broker is not hammered.
 *
 * <p>Which topics a refresh asks for is the set of topics of interest ({@link #addTopics}), or all
 * topics when {@link #setAllTopics(boolean)} is on (the consumer's pattern subscription).
 * An admin client has no topics of interest and uses refreshes only for brokers and controller.
 *
 * <h2>Request versions</h2>
 * Every demand for fresh metadata (the topic set grows, {@link #requestUpdate()}, {@link #awaitUpdate})
 * bumps a request version; a refresh carries the version current when it was built
 * ({@link #refreshStarted}) and its response names that version back ({@link #update(MetadataResponse, long, long)}).
 * A response to an older version is still applied (it is newer than what we had), but it does not
 * satisfy the demands made after its request left: a waiter registered at version v completes only with
 * a response to a request of version v or later, and another refresh is due at once (after the retry
 * backoff, never after {@code metadata.max.age.ms}). Without this, a waiter that added a topic while a
 * refresh was in flight got a cluster without that topic, and nothing asked again until the max age.
 *
 * <p>Thread-safe: all state changes hold this object's lock; {@link #cluster()} reads a volatile
 * immutable snapshot without locking. The {@link NetworkClient} I/O thread sends the refreshes;
 * waiters' futures complete on that thread, outside the lock.
 */
public final class Metadata {
    private final ExponentialBackoff refreshBackoff;
    private final long metadataMaxAgeMs;

    private volatile Cluster cluster;
    private final Set<String> topics = new HashSet<>();
    private boolean allTopics;
    // the version the next refresh will carry; a demand for fresh metadata moves it past the last
    // refresh sent, so it grows by at most one per refresh
    private long requestVersion;
    private long sentVersion = -1;
    // the highest version a successful response answered; requestVersion > answeredVersion = refresh due
    private long answeredVersion = -1;
    // the last update was incomplete (leaderless partitions, topics being created) or the last attempt failed
    private boolean retryWanted;
    private long lastRefreshAttemptMs = -1;
    private long lastSuccessfulRefreshMs = -1;
    private int failedAttempts;
    private int updateVersion;
    private final List<Waiter> waiters = new ArrayList<>();

    private record Waiter(CompletableFuture<Cluster> future, long deadlineMs, long requestVersion) {
    }

    /**
     * What one refresh asks for: {@code topics} (null = all topics) and the request version that
     * {@link #update(MetadataResponse, long, long)} must be given with its response.
     */
    public record RefreshRequest(Set<String> topics, long version) {
    }

    public Metadata(List<Node> bootstrapNodes, ExponentialBackoff refreshBackoff, long metadataMaxAgeMs) {
        this.cluster = Cluster.bootstrap(bootstrapNodes);
        this.refreshBackoff = refreshBackoff;
        this.metadataMaxAgeMs = metadataMaxAgeMs;
    }

    /** The current snapshot (bootstrap addresses only until the first update). */
    public Cluster cluster() {
        return cluster;
    }

    /** Number of successful updates so far. */
    public synchronized int updateVersion() {
        return updateVersion;
    }

    /**
     * Asks for a refresh as soon as the backoff allows; a refresh already in flight does not count,
     * since it may have been built before whatever made the caller ask.
     */
    public synchronized void requestUpdate() {
        long floor = Math.max(sentVersion, answeredVersion);
        if (requestVersion <= floor) {
            requestVersion = floor + 1;
        }
    }

    /**
     * Asks for a refresh if {@code error} means the cached leaders or topics may be stale; returns
     * whether it did.
     */
    public boolean requestUpdateForError(Errors error) {
        if (isStaleMetadataError(error)) {
            requestUpdate();
            return true;
        }
        return false;
    }

    /** Errors after which the metadata a client used is probably out of date. */
    public static boolean isStaleMetadataError(Errors error) {
        switch (error) {
            case NOT_LEADER_OR_FOLLOWER:
            case UNKNOWN_TOPIC_OR_PARTITION:
            case LEADER_NOT_AVAILABLE:
            case REPLICA_NOT_AVAILABLE:
            case FENCED_LEADER_EPOCH:
            case UNKNOWN_LEADER_EPOCH:
            case KAFKA_STORAGE_ERROR:
            case NOT_CONTROLLER:
            case UNKNOWN_TOPIC_ID:
            case BROKER_NOT_AVAILABLE:
            case NETWORK_EXCEPTION:
            case LISTENER_NOT_FOUND:
                return true;
            default:
                return false;
        }
    }

    /** Adds topics of interest; a refresh is requested if any is new. */
    public synchronized void addTopics(Collection<String> names) {
        if (topics.addAll(names)) {
            requestUpdate();
        }
    }

    /** Replaces the topics of interest; a refresh is requested if the set grew. */
    public synchronized void setTopics(Collection<String> names) {
        Set<String> next = new HashSet<>(names);
        if (!topics.containsAll(next)) {
            requestUpdate();
        }
        topics.clear();
        topics.addAll(next);
    }

    /** Whether refreshes ask for every topic in the cluster. */
    public synchronized void setAllTopics(boolean all) {
        if (all && !allTopics) {
            requestUpdate();
        }
        allTopics = all;
    }

    /** The topics a refresh should ask for, or null for all topics. */
    public synchronized Set<String> topicsToRequest() {
        return allTopics ? null : Set.copyOf(topics);
    }

    /** Milliseconds until a refresh should be sent (0 = now). */
    public synchronized long timeToNextUpdate(long nowMs) {
        long due;
        if (requestVersion > answeredVersion || retryWanted || lastSuccessfulRefreshMs < 0) {
            due = 0;
        } else {
            due = Math.max(0, lastSuccessfulRefreshMs + metadataMaxAgeMs - nowMs);
        }
        long backoff = 0;
        if (lastRefreshAttemptMs >= 0) {
            long wait = failedAttempts == 0 ? refreshBackoff.initialMs() : refreshBackoff.backoffMs(failedAttempts);
            backoff = Math.max(0, lastRefreshAttemptMs + wait - nowMs);
        }
        return Math.max(due, backoff);
    }

    /**
     * Records that a refresh is being sent at {@code nowMs} and returns what it asks for, with the
     * version its response must be applied with. Topics and version are read together, so the
     * response to this request satisfies exactly the demands made before this call.
     */
    public synchronized RefreshRequest refreshStarted(long nowMs) {
        lastRefreshAttemptMs = nowMs;
        sentVersion = requestVersion;
        return new RefreshRequest(allTopics ? null : Set.copyOf(topics), requestVersion);
    }

    /** Records a refresh that got no usable answer; the next one backs off further. */
    public synchronized void refreshFailed(long nowMs) {
        lastRefreshAttemptMs = nowMs;
        failedAttempts++;
        retryWanted = true;
    }

    /**
     * Applies a Metadata response to a request that covered the current topics of interest (as if it
     * carried the current request version); see {@link #update(MetadataResponse, long, long)}.
     */
    public void update(MetadataResponse response, long nowMs) {
        long version;
        synchronized (this) {
            version = requestVersion;
        }
        update(response, version, nowMs);
    }

    /**
     * Applies the response to the refresh of version {@code requestVersion} (from {@link #refreshStarted}).
     * Topics outside the interest set are dropped (unless all topics are of interest); topics missing
     * from the response keep no stale entry. Completes the waiters registered at that version or
     * before; if demands were made after the request was built, another refresh is due at once.
     */
    public void update(MetadataResponse response, long requestVersion, long nowMs) {
        List<Waiter> done;
        Cluster next;
        synchronized (this) {
            List<Node> nodes = new ArrayList<>();
            for (MetadataResponseBroker b : response.brokers()) {
                nodes.add(new Node(b.nodeId(), b.host(), b.port(), b.rack()));
            }
            Map<String, Cluster.TopicInfo> topicInfos = new LinkedHashMap<>();
            Map<String, Errors> topicErrors = new LinkedHashMap<>();
            boolean incomplete = false;
            for (MetadataResponseTopic t : response.topics()) {
                if (t.name() == null || (!allTopics && !topics.contains(t.name()))) {
                    continue;
                }
                Errors topicError = Errors.forCode(t.errorCode());
                if (topicError != Errors.NONE) {
                    topicErrors.put(t.name(), topicError);
                    // a topic being created (LEADER_NOT_AVAILABLE) is worth another look soon;
                    // an unknown topic only when someone asks again
                    incomplete |= topicError == Errors.LEADER_NOT_AVAILABLE;
                    continue;
                }
                List<Cluster.PartitionInfo> parts = new ArrayList<>();
                for (MetadataResponsePartition p : t.partitions()) {
                    Errors pe = Errors.forCode(p.errorCode());
                    parts.add(new Cluster.PartitionInfo(t.name(), p.partitionIndex(), p.leaderId(), p.leaderEpoch(),
                        p.replicaNodes(), p.isrNodes(), p.offlineReplicas(), pe));
                    incomplete |= p.leaderId() < 0 || pe.isRetriable();
                }
                parts.sort(Comparator.comparingInt(Cluster.PartitionInfo::partition));
                UUID id = t.topicId();
                topicInfos.put(t.name(), new Cluster.TopicInfo(t.name(), id, t.isInternal(), parts));
            }
            Integer controller = response.controllerId() < 0 ? null : response.controllerId();
            next = new Cluster(response.clusterId(), nodes, controller, topicInfos, topicErrors);
            cluster = next;
            lastSuccessfulRefreshMs = nowMs;
            lastRefreshAttemptMs = nowMs;
            failedAttempts = 0;
            retryWanted = incomplete;
            answeredVersion = Math.max(answeredVersion, requestVersion);
            updateVersion++;
            done = new ArrayList<>();
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.requestVersion() <= requestVersion) {
                    it.remove();
                    done.add(w);
                }
            }
        }
        for (Waiter w : done) {
            w.future().complete(next);
        }
    }

    /**
     * A future completed with the snapshot of the first successful update whose request was built
     * after this call (so it covers every topic of interest added before it), or failed with a
     * {@link TimeoutException} once {@code deadlineMs} passes (checked by {@link #expireWaiters}).
     * Also requests an update.
     */
    public synchronized CompletableFuture<Cluster> awaitUpdate(long deadlineMs) {
        requestUpdate();
        CompletableFuture<Cluster> f = new CompletableFuture<>();
        waiters.add(new Waiter(f, deadlineMs, requestVersion));
        return f;
    }

    /** Fails waiters whose deadline passed; returns the earliest remaining deadline or Long.MAX_VALUE. */
    public long expireWaiters(long nowMs) {
        List<Waiter> expired = new ArrayList<>();
        long next = Long.MAX_VALUE;
        synchronized (this) {
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.future().isDone()) {
                    it.remove();
                } else if (nowMs >= w.deadlineMs()) {
                    it.remove();
                    expired.add(w);
                } else {
                    next = Math.min(next, w.deadlineMs());
                }
            }
        }
        for (Waiter w : expired) {
            w.future().completeExceptionally(new TimeoutException("Timed out waiting for a metadata update"));
        }
        return next;
    }

    /** Fails every waiter (the client is closing). */
    public void failWaiters(RuntimeException e) {
        List<Waiter> all;
        synchronized (this) {
            all = new ArrayList<>(waiters);
            waiters.clear();
        }
        all.forEach(w -> w.future().completeExceptionally(e));
    }
}
