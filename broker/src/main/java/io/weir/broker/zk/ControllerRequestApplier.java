package io.weir.broker.zk;

import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.message.LeaderAndIsrRequest;
import io.weir.protocol.message.LeaderAndIsrResponse;
import io.weir.protocol.message.StopReplicaRequest;
import io.weir.protocol.message.StopReplicaResponse;
import io.weir.protocol.message.UpdateMetadataRequest;
import io.weir.protocol.message.UpdateMetadataResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * A broker's side of the controller's requests (Kafka's ZooKeeper mode): LeaderAndIsr, UpdateMetadata and
 * StopReplica. The controller pushes them after each of its writes, so a broker learns a leader change at
 * once rather than when its ZooKeeper watch fires; both paths feed {@link ReplicaManager#hostPartition} /
 * {@link ReplicaManager#applyPartitionState}, which ignores a state older than the one applied, so they
 * never undo each other.
 *
 * <p>Fencing, in Kafka's order: a request naming an older broker epoch than this broker's registration
 * (meant for an earlier run of it) → STALE_BROKER_EPOCH, a newer one is accepted (the controller saw this
 * broker's new registration before its registrar recorded the epoch, as Kafka allows); a controller epoch
 * older than the newest this broker knows — accepted in a request, read from ZooKeeper into its metadata, or
 * its own term's — → STALE_CONTROLLER_EPOCH (a deposed controller). Nothing changes for a refused
 * request. Per partition of a LeaderAndIsr: this broker not among the replicas → UNKNOWN_TOPIC_OR_PARTITION;
 * another topic id than the hosted replica's → INCONSISTENT_TOPIC_ID; an older leader epoch than the
 * applied one → STALE_CONTROLLER_EPOCH; the same leader epoch → STALE_CONTROLLER_EPOCH as well, unless it
 * carries a newer partition epoch (an ISR change, which is applied; Kafka's controller never sends those).
 * Per partition of a StopReplica: an older leader epoch → FENCED_LEADER_EPOCH (-1 skips the check, -2 marks
 * a deletion).
 *
 * <p>UpdateMetadata builds the broker's next metadata image from the request itself and swaps it in atomically
 * ({@link ZkMetadataStore#applyUpdateMetadata}): live brokers, the controller, partition leaders, ISRs and epochs,
 * topic deletions. Only what the request lacks is read from ZooKeeper: a topic new to this broker or whose
 * assignment changed (configs, reassignment state) and a new broker's epoch. The controller's own broker keeps
 * the image it reads from ZooKeeper after its writes. A request carries a snapshot of the controller's image, so
 * one queued before a change this broker's watches have already shown (a broker gone or back) may hide that
 * change for a moment; the controller's next request, sent once it sees the change, brings it back (requests
 * to one broker are answered in order). That holds for the current controller only: a deposed one sends no
 * next request, so its requests still in flight once this broker knows a newer controller epoch are refused.
 *
 * <p>Thread-safe: requests are applied one at a time.
 */
public final class ControllerRequestApplier {
    private static final Logger log = LoggerFactory.getLogger(ControllerRequestApplier.class);
    /** StopReplica's leader epoch meaning "no check" (older senders). */
    static final int NO_EPOCH = -1;
    /** StopReplica's leader epoch meaning "the topic is being deleted". */
    static final int EPOCH_DURING_DELETE = -2;

    private final int brokerId;
    private final ZkMetadataStore store;
    private final ReplicaManager replicaManager;
    private final LongSupplier brokerEpoch;
    private final Object lock = new Object();
    /** The newest controller epoch accepted (guarded by lock); Kafka's initial controller epoch is 0. */
    private int controllerEpoch;

    public ControllerRequestApplier(int brokerId, ZkMetadataStore store, ReplicaManager replicaManager,
                                    LongSupplier brokerEpoch) {
        this.brokerId = brokerId;
        this.store = store;
        this.replicaManager = replicaManager;
        this.brokerEpoch = brokerEpoch;
    }

    /** The newest controller epoch this broker has accepted a request of (0 before any). */
    public int controllerEpoch() {
        synchronized (lock) {
            return controllerEpoch;
        }
    }

    /** STALE_BROKER_EPOCH for a request meant for an earlier registration of this broker; -1 is not checked. */
    private Errors checkBrokerEpoch(String api, int controllerId, long requested) {
        if (requested == -1) {
            return Errors.NONE;
        }
        long current = brokerEpoch.getAsLong();
        if (requested < current) {
            log.info("refusing {} from controller {}: broker epoch {} is older than this broker's {}", api,
                controllerId, requested, current);
            return Errors.STALE_BROKER_EPOCH;
        }
        if (requested > current) {
            // this broker registered again (fenced while alive, or a new session) and the controller saw the new
            // registration before the registrar recorded its epoch: the request is for this very registration
            // (two live processes cannot hold one broker id's ephemeral znode), and refusing it would lose the
            // full state the controller sends a returning broker, as Kafka's brokers accept it too
            log.debug("{} from controller {} names broker epoch {}, newer than the {} this broker has recorded so far",
                api, controllerId, requested, current);
        }
        return Errors.NONE;
    }

    /**
     * Accepts {@code epoch} if it is not older than the newest seen — in a request, or in ZooKeeper by this
     * broker's metadata (a new controller read there, or this broker's own term) — then it becomes the newest.
     * Holds lock.
     */
    private boolean acceptControllerEpochLocked(String api, int controllerId, int epoch) {
        int newest = Math.max(controllerEpoch, store.controllerEpoch());
        if (epoch < newest) {
            log.warn("refusing {} from controller {}: its controller epoch {} is older than {}", api, controllerId,
                epoch, newest);
            return false;
        }
        controllerEpoch = epoch;
        return true;
    }

    // ---------------------------------------------------------------- LeaderAndIsr

    public LeaderAndIsrResponse leaderAndIsr(LeaderAndIsrRequest request) {
        Errors epochError = checkBrokerEpoch("LeaderAndIsr", request.controllerId(), request.brokerEpoch());
        if (epochError != Errors.NONE) {
            return leaderAndIsrError(request, epochError);
        }
        synchronized (lock) {
            if (!acceptControllerEpochLocked("LeaderAndIsr", request.controllerId(), request.controllerEpoch())) {
                return leaderAndIsrError(request, Errors.STALE_CONTROLLER_EPOCH);
            }
            List<LeaderAndIsrResponse.LeaderAndIsrTopicError> topics = new ArrayList<>();
            for (LeaderAndIsrRequest.LeaderAndIsrTopicState t : request.topicStates()) {
                TopicMetadata topic = topic(t.topicName(), t.topicId());
                List<LeaderAndIsrResponse.LeaderAndIsrPartitionError> errors = new ArrayList<>();
                for (LeaderAndIsrRequest.LeaderAndIsrPartitionState p : t.partitionStates()) {
                    Errors e = applyLeaderAndIsr(request.controllerId(), t, topic, p);
                    errors.add(new LeaderAndIsrResponse.LeaderAndIsrPartitionError()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(e.code()));
                }
                topics.add(new LeaderAndIsrResponse.LeaderAndIsrTopicError().setTopicId(t.topicId())
                    .setPartitionErrors(errors));
            }
            return new LeaderAndIsrResponse().setErrorCode(Errors.NONE.code()).setTopics(topics);
        }
    }

    /**
     * The topic as this broker's image knows it, re-read from ZooKeeper first when the image does not have
     * it yet (the controller writes before it sends, so the read sees it); null when it is not there.
     */
    private TopicMetadata topic(String name, UUID topicId) {
        TopicMetadata t = store.image().topics().get(name);
        if (t == null || !t.topicId().equals(topicId)) {
            store.changed(name, true);
            t = store.image().topics().get(name);
        }
        return t;
    }

    private Errors applyLeaderAndIsr(int controllerId, LeaderAndIsrRequest.LeaderAndIsrTopicState t, TopicMetadata topic,
                                     LeaderAndIsrRequest.LeaderAndIsrPartitionState p) {
        TopicPartition tp = new TopicPartition(t.topicName(), p.partitionIndex());
        if (!p.replicas().contains(brokerId)) {
            log.warn("ignoring LeaderAndIsr from controller {} for {}: broker {} is not among its replicas {}",
                controllerId, tp, brokerId, p.replicas());
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (replicaManager.isOffline(tp)) {
            return Errors.KAFKA_STORAGE_ERROR; // its log directory failed: not hosted again until a restart
        }
        Partition hosted = replicaManager.partition(tp);
        if (hosted != null && !hosted.topicId().equals(t.topicId())
            || topic != null && !topic.topicId().equals(t.topicId())) {
            log.error("LeaderAndIsr from controller {} for {} names topic id {}, this broker has {}", controllerId, tp,
                t.topicId(), hosted != null ? hosted.topicId() : topic.topicId());
            return Errors.INCONSISTENT_TOPIC_ID;
        }
        if (topic == null || p.partitionIndex() < 0 || p.partitionIndex() >= topic.partitionCount()) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION; // not (or no longer) in ZooKeeper: nothing to host it with
        }
        PartitionState state = new PartitionState(p.leader(), p.leaderEpoch(), p.isr(), p.controllerEpoch(),
            p.partitionEpoch());
        if (hosted != null && hosted.hasAppliedState()) {
            if (p.leaderEpoch() < hosted.leaderEpoch()) {
                log.warn("ignoring LeaderAndIsr from controller {} for {}: leader epoch {} is older than {}",
                    controllerId, tp, p.leaderEpoch(), hosted.leaderEpoch());
                return Errors.STALE_CONTROLLER_EPOCH;
            }
            if (p.leaderEpoch() == hosted.leaderEpoch() && p.partitionEpoch() <= hosted.partitionEpoch()) {
                log.debug("LeaderAndIsr from controller {} for {}: leader epoch {} already applied", controllerId, tp,
                    p.leaderEpoch());
                return Errors.STALE_CONTROLLER_EPOCH;
            }
        }
        replicaManager.hostPartition(topic, p.partitionIndex(), p.replicas(), state);
        return Errors.NONE;
    }

    public static LeaderAndIsrResponse leaderAndIsrError(LeaderAndIsrRequest request, Errors error) {
        List<LeaderAndIsrResponse.LeaderAndIsrTopicError> topics = new ArrayList<>();
        for (LeaderAndIsrRequest.LeaderAndIsrTopicState t : request.topicStates()) {
            List<LeaderAndIsrResponse.LeaderAndIsrPartitionError> errors = new ArrayList<>();
            for (LeaderAndIsrRequest.LeaderAndIsrPartitionState p : t.partitionStates()) {
                errors.add(new LeaderAndIsrResponse.LeaderAndIsrPartitionError().setPartitionIndex(p.partitionIndex())
                    .setErrorCode(error.code()));
            }
            topics.add(new LeaderAndIsrResponse.LeaderAndIsrTopicError().setTopicId(t.topicId()).setPartitionErrors(errors));
        }
        return new LeaderAndIsrResponse().setErrorCode(error.code()).setTopics(topics);
    }

    // ---------------------------------------------------------------- UpdateMetadata

    public UpdateMetadataResponse updateMetadata(UpdateMetadataRequest request) {
        Errors epochError = checkBrokerEpoch("UpdateMetadata", request.controllerId(), request.brokerEpoch());
        if (epochError != Errors.NONE) {
            return new UpdateMetadataResponse().setErrorCode(epochError.code());
        }
        synchronized (lock) {
            if (!acceptControllerEpochLocked("UpdateMetadata", request.controllerId(), request.controllerEpoch())) {
                return new UpdateMetadataResponse().setErrorCode(Errors.STALE_CONTROLLER_EPOCH.code());
            }
            if (request.controllerId() == brokerId) {
                // this broker's own controller: its image is ZooKeeper's, re-read after each of its writes, and
                // the controller decides from it. A request queued before a change it has read since (a broker
                // that registered again) would take that image back and hide the change from the controller
                return new UpdateMetadataResponse().setErrorCode(Errors.NONE.code());
            }
            // under this lock, so an image built from an older controller's request never follows a newer one's
            Optional<Set<String>> applied = store.applyUpdateMetadata(request);
            if (applied.isEmpty()) {
                log.info("refusing UpdateMetadata from controller {}: its controller epoch {} is older than the {}"
                    + " this broker's metadata already reflects", request.controllerId(), request.controllerEpoch(),
                    store.controllerEpoch());
                return new UpdateMetadataResponse().setErrorCode(Errors.STALE_CONTROLLER_EPOCH.code());
            }
            Set<String> reread = applied.get();
            if (!reread.isEmpty()) {
                log.debug("UpdateMetadata from controller {}: topics {} are re-read from ZooKeeper for what the request"
                    + " lacks (configs, reassignment state)", request.controllerId(), reread);
            }
        }
        return new UpdateMetadataResponse().setErrorCode(Errors.NONE.code());
    }

    // ---------------------------------------------------------------- StopReplica

    public StopReplicaResponse stopReplica(StopReplicaRequest request) {
        Errors epochError = checkBrokerEpoch("StopReplica", request.controllerId(), request.brokerEpoch());
        if (epochError != Errors.NONE) {
            return stopReplicaError(request, epochError);
        }
        synchronized (lock) {
            if (!acceptControllerEpochLocked("StopReplica", request.controllerId(), request.controllerEpoch())) {
                // Kafka's answer: the top-level error alone
                return new StopReplicaResponse().setErrorCode(Errors.STALE_CONTROLLER_EPOCH.code());
            }
            List<StopReplicaResponse.StopReplicaPartitionError> errors = new ArrayList<>();
            for (StopReplicaRequest.StopReplicaTopicState t : request.topicStates()) {
                for (StopReplicaRequest.StopReplicaPartitionState p : t.partitionStates()) {
                    TopicPartition tp = new TopicPartition(t.topicName(), p.partitionIndex());
                    Errors e = Errors.NONE;
                    Partition hosted = replicaManager.partition(tp);
                    int epoch = p.leaderEpoch();
                    if (hosted != null && epoch != NO_EPOCH && epoch != EPOCH_DURING_DELETE
                        && epoch < hosted.leaderEpoch()) {
                        log.warn("ignoring StopReplica from controller {} for {}: leader epoch {} is older than {}",
                            request.controllerId(), tp, epoch, hosted.leaderEpoch());
                        e = Errors.FENCED_LEADER_EPOCH;
                    } else if (tp.isValid()) {
                        replicaManager.stopReplica(tp, p.deletePartition());
                        log.info("stopped replica {} (delete={}) for controller {}", tp, p.deletePartition(),
                            request.controllerId());
                    }
                    errors.add(new StopReplicaResponse.StopReplicaPartitionError().setTopicName(t.topicName())
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(e.code()));
                }
            }
            return new StopReplicaResponse().setErrorCode(Errors.NONE.code()).setPartitionErrors(errors);
        }
    }

    public static StopReplicaResponse stopReplicaError(StopReplicaRequest request, Errors error) {
        List<StopReplicaResponse.StopReplicaPartitionError> errors = new ArrayList<>();
        for (StopReplicaRequest.StopReplicaTopicState t : request.topicStates()) {
            for (StopReplicaRequest.StopReplicaPartitionState p : t.partitionStates()) {
                errors.add(new StopReplicaResponse.StopReplicaPartitionError().setTopicName(t.topicName())
                    .setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
            }
        }
        return new StopReplicaResponse().setErrorCode(error.code()).setPartitionErrors(errors);
    }
}
