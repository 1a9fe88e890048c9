package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.TopicController;
import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.message.AlterPartitionRequest;
import io.weir.protocol.message.AlterPartitionResponse;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The controller's side of AlterPartition: a partition leader's ISR change, checked the way Kafka's
 * controller checks it ({@code ReplicationControlManager.alterPartition}) and written as a conditional
 * update of the partition's state znode under the controller-epoch fence.
 *
 * <p>Checks, in Kafka's order. Top level: this broker is not the active controller → NOT_CONTROLLER;
 * the sender is not registered with the broker epoch it names → STALE_BROKER_EPOCH. Per topic: an
 * unknown topic id → UNKNOWN_TOPIC_ID. Per partition: no such partition → UNKNOWN_TOPIC_OR_PARTITION;
 * a leader or partition epoch newer than this controller's → NOT_CONTROLLER (this controller is behind:
 * the leader retries); an older leader epoch → FENCED_LEADER_EPOCH; the sender is not the leader →
 * INVALID_REQUEST; an older partition epoch → INVALID_UPDATE_VERSION; a new ISR that is empty, repeats
 * a broker, names a broker outside the replica assignment or leaves out the leader, or a leader
 * recovery state of RECOVERING (ZooKeeper mode keeps none, so it is always RECOVERED) →
 * INVALID_REQUEST; a member that is not a live broker, or (v3) whose broker epoch is not the one it
 * names, or a broker in controlled shutdown joining the ISR → INELIGIBLE_REPLICA. The partition epoch is the state znode's version; an ISR change keeps
 * the leader and its epoch and bumps only the partition epoch; a new ISR equal to the current one
 * writes nothing and answers the current state, as Kafka does.
 *
 * <p>Registrations are checked against the metadata image first and against ZooKeeper itself only
 * when the image disagrees, so an image that lags a broker's (re)registration does not refuse a good
 * request. The write is one quick ZooKeeper transaction per changed partition, made on the calling
 * request-handler thread while holding the {@link ZkController}'s lock ({@link
 * ZkController#updatePartitionState}); validation holds no lock, because the write is conditional on
 * the version it validated (a state changed meanwhile fails it: INVALID_UPDATE_VERSION).
 *
 * <p>Thread-safe.
 */
public final class AlterPartitionControl {
    private static final Logger log = LoggerFactory.getLogger(AlterPartitionControl.class);
    private static final byte RECOVERED = 0;
    private static final UUID ZERO_UUID = new UUID(0L, 0L);

    private final ZkMetadataStore store;
    private final ZkController controller;

    public AlterPartitionControl(ZkMetadataStore store, ZkController controller) {
        this.store = store;
        this.controller = controller;
    }

    /** Validates and applies {@code request} (of {@code version}), returning the response to send. */
    public AlterPartitionResponse alterPartition(short version, AlterPartitionRequest request) {
        if (!controller.isActive()) {
            return errorResponse(request, Errors.NOT_CONTROLLER);
        }
        ZkMetadataStore.Image image = store.image();
        if (!hasEpoch(image, request.brokerId(), request.brokerEpoch())) {
            log.info("refusing AlterPartition from broker {}: broker epoch {} is not its registration's",
                request.brokerId(), request.brokerEpoch());
            return errorResponse(request, Errors.STALE_BROKER_EPOCH);
        }
        Map<UUID, TopicMetadata> byId = new HashMap<>();
        for (TopicMetadata t : image.topics().values()) {
            byId.put(t.topicId(), t);
        }
        AlterPartitionResponse response = new AlterPartitionResponse().setErrorCode(Errors.NONE.code());
        List<AlterPartitionResponse.TopicData> topics = new ArrayList<>();
        boolean controllerMoved = false;
        for (AlterPartitionRequest.TopicData t : request.topics()) {
            List<AlterPartitionResponse.PartitionData> results = new ArrayList<>();
            TopicMetadata topic = ZERO_UUID.equals(t.topicId()) ? null : byId.get(t.topicId());
            for (AlterPartitionRequest.PartitionData p : t.partitions()) {
                AlterPartitionResponse.PartitionData r = new AlterPartitionResponse.PartitionData()
                    .setPartitionIndex(p.partitionIndex());
                results.add(r);
                if (topic == null) {
                    r.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
                    continue;
                }
                if (controllerMoved) {
                    r.setErrorCode(Errors.NOT_CONTROLLER.code());
                    continue;
                }
                TopicPartition tp = new TopicPartition(topic.name(), p.partitionIndex());
                List<Integer> newIsr = newIsr(version, p);
                PartitionState state = image.states().get(tp);
                List<Integer> replicas = image.assignments().getOrDefault(topic.name(), Map.of()).get(p.partitionIndex());
                Errors error = validate(version, request.brokerId(), tp, state, replicas, p, newIsr, image);
                if (error != Errors.NONE) {
                    r.setErrorCode(error.code());
                    continue;
                }
                PartitionState next = state;
                if (!newIsr.equals(state.isr())) {
                    try {
                        next = controller.updatePartitionState(tp, state, state.leader(), state.leaderEpoch(), newIsr);
                        log.info("controller changed the ISR of {} from {} to {} for leader {} (partition epoch {})", tp,
                            state.isr(), newIsr, state.leader(), next.zkVersion());
                    } catch (TopicController.NotControllerException e) {
                        controllerMoved = true; // deposed: this and the rest are for the next controller
                        r.setErrorCode(Errors.NOT_CONTROLLER.code());
                        continue;
                    } catch (RuntimeException e) {
                        if (hasCause(e, KeeperException.BadVersionException.class)) {
                            // changed since the image this was validated against: the request is stale
                            store.changed(tp);
                            r.setErrorCode(Errors.INVALID_UPDATE_VERSION.code());
                        } else if (hasCause(e, KeeperException.NoNodeException.class)) {
                            store.changed(tp.topic(), true);
                            r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                        } else {
                            log.error("cannot write the ISR change of {} to {}", tp, newIsr, e);
                            r.setErrorCode(Errors.forException(e).code());
                        }
                        continue;
                    }
                }
                r.setErrorCode(Errors.NONE.code()).setLeaderId(next.leader()).setLeaderEpoch(next.leaderEpoch())
                    .setIsr(next.isr()).setLeaderRecoveryState(RECOVERED).setPartitionEpoch(next.zkVersion());
            }
            topics.add(new AlterPartitionResponse.TopicData().setTopicId(t.topicId()).setPartitions(results));
        }
        return response.setTopics(topics);
    }

    private Errors validate(short version, int brokerId, TopicPartition tp, PartitionState state, List<Integer> replicas,
                            AlterPartitionRequest.PartitionData p, List<Integer> newIsr, ZkMetadataStore.Image image) {
        if (state == null || replicas == null) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (p.leaderEpoch() > state.leaderEpoch() || p.partitionEpoch() > state.zkVersion()) {
            log.debug("AlterPartition for {} from broker {} names leader epoch {} / partition epoch {}, newer than"
                + " this controller's {} / {}", tp, brokerId, p.leaderEpoch(), p.partitionEpoch(), state.leaderEpoch(),
                state.zkVersion());
            return Errors.NOT_CONTROLLER;
        }
        if (p.leaderEpoch() < state.leaderEpoch()) {
            log.info("refusing AlterPartition for {} from broker {}: leader epoch {} is older than {}", tp, brokerId,
                p.leaderEpoch(), state.leaderEpoch());
            return Errors.FENCED_LEADER_EPOCH;
        }
        if (brokerId != state.leader()) {
            log.info("refusing AlterPartition for {} from broker {}: the leader is {}", tp, brokerId, state.leader());
            return Errors.INVALID_REQUEST;
        }
        if (p.partitionEpoch() < state.zkVersion()) {
            log.info("refusing AlterPartition for {} from broker {}: partition epoch {} is older than {}", tp, brokerId,
                p.partitionEpoch(), state.zkVersion());
            return Errors.INVALID_UPDATE_VERSION;
        }
        Set<Integer> distinct = new HashSet<>(newIsr);
        if (newIsr.isEmpty() || distinct.size() != newIsr.size() || !replicas.containsAll(distinct)
            || !distinct.contains(state.leader()) || p.leaderRecoveryState() != RECOVERED) {
            log.info("refusing AlterPartition for {} from broker {}: ISR {} (recovery state {}) is not valid for"
                + " replicas {} and leader {}", tp, brokerId, newIsr, p.leaderRecoveryState(), replicas, state.leader());
            return Errors.INVALID_REQUEST;
        }
        Set<Integer> shuttingDown = controller.shuttingDownBrokers();
        for (int member : newIsr) {
            if (!state.isr().contains(member) && shuttingDown.contains(member)) {
                // Kafka's rule: a broker in controlled shutdown is not taken back into an ISR
                log.info("refusing AlterPartition for {} from broker {}: ISR member {} is in controlled shutdown", tp,
                    brokerId, member);
                return Errors.INELIGIBLE_REPLICA;
            }
        }
        List<Long> epochs = newIsrEpochs(version, p);
        for (int i = 0; i < newIsr.size(); i++) {
            long epoch = epochs.get(i);
            if (!isLive(image, newIsr.get(i), epoch)) {
                log.info("refusing AlterPartition for {} from broker {}: ISR member {} (epoch {}) is not a live broker"
                    + " of that epoch", tp, brokerId, newIsr.get(i), epoch);
                return Errors.INELIGIBLE_REPLICA;
            }
        }
        return Errors.NONE;
    }

    private static List<Integer> newIsr(short version, AlterPartitionRequest.PartitionData p) {
        if (version < 3) {
            return p.newIsr();
        }
        List<Integer> ids = new ArrayList<>(p.newIsrWithEpochs().size());
        for (AlterPartitionRequest.BrokerState b : p.newIsrWithEpochs()) {
            ids.add(b.brokerId());
        }
        return ids;
    }

    private static List<Long> newIsrEpochs(short version, AlterPartitionRequest.PartitionData p) {
        List<Long> epochs = new ArrayList<>();
        if (version < 3) {
            for (int i = 0; i < p.newIsr().size(); i++) {
                epochs.add(-1L);
            }
        } else {
            for (AlterPartitionRequest.BrokerState b : p.newIsrWithEpochs()) {
                epochs.add(b.brokerEpoch());
            }
        }
        return epochs;
    }

    /** Whether broker {@code id} is registered with exactly {@code epoch}. */
    private boolean hasEpoch(ZkMetadataStore.Image image, int id, long epoch) {
        BrokerRegistration b = registration(image, id);
        if (b != null && b.epoch() == epoch) {
            return true;
        }
        long current = registeredEpoch(id);
        return current >= 0 && current == epoch;
    }

    /** Whether broker {@code id} is registered, with {@code epoch} unless that is -1 (no check). */
    private boolean isLive(ZkMetadataStore.Image image, int id, long epoch) {
        BrokerRegistration b = registration(image, id);
        if (b != null && (epoch == -1 || b.epoch() == epoch)) {
            return true;
        }
        long current = registeredEpoch(id);
        return current >= 0 && (epoch == -1 || current == epoch);
    }

    private static BrokerRegistration registration(ZkMetadataStore.Image image, int id) {
        for (BrokerRegistration b : image.brokers()) {
            if (b.id() == id) {
                return b;
            }
        }
        return null;
    }

    /** The broker's epoch read from its registration znode now, or -1 when it is not registered. */
    private long registeredEpoch(int id) {
        try {
            Stat stat = store.client().checkExists().forPath(ZkPaths.broker(id));
            return stat == null ? -1 : stat.getCzxid();
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("read the registration of broker " + id, e);
        }
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /** The response in which the top level and every partition carry {@code error}. */
    public static AlterPartitionResponse errorResponse(AlterPartitionRequest request, Errors error) {
        List<AlterPartitionResponse.TopicData> topics = new ArrayList<>();
        for (AlterPartitionRequest.TopicData t : request.topics()) {
            List<AlterPartitionResponse.PartitionData> parts = new ArrayList<>();
            for (AlterPartitionRequest.PartitionData p : t.partitions()) {
                parts.add(new AlterPartitionResponse.PartitionData().setPartitionIndex(p.partitionIndex())
                    .setErrorCode(error.code()));
            }
            topics.add(new AlterPartitionResponse.TopicData().setTopicId(t.topicId()).setPartitions(parts));
        }
        return new AlterPartitionResponse().setErrorCode(error.code()).setTopics(topics);
    }
}
