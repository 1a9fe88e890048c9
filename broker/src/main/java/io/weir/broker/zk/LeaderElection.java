package io.weir.broker.zk;

import io.weir.broker.metadata.PartitionState;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The controller's leader-election rules for one partition, as Kafka's ZooKeeper-mode controller
 * applied them (its partition state machine and election strategies), written as pure functions of
 * the partition's state, its replica assignment (preferred replica first) and the brokers that are
 * live. {@link ZkController} reads the inputs from its metadata image and writes the outcomes under
 * its epoch fence. Each outcome is a {@link Decision}: the new leader ({@link #NO_LEADER} for none)
 * and ISR; the caller bumps the leader epoch.
 *
 * <p>A broker that is shutting down (controlled shutdown) is never elected: {@code live} sets leave it
 * out. It keeps leading only what cannot move.
 *
 * <p>Stateless; thread-safe.
 */
final class LeaderElection {
    static final int NO_LEADER = -1;

    private LeaderElection() {
    }

    /** A partition's new leader and ISR. */
    record Decision(int leader, List<Integer> isr) {
        Decision {
            isr = List.copyOf(isr);
        }

        boolean sameAs(PartitionState s) {
            return s.leader() == leader && s.isr().equals(isr);
        }
    }

    /**
     * A new partition's first state (Kafka's rule): the ISR is every live replica, the leader the first
     * of them in assignment order. With no live replica there is no leader and the ISR is the whole
     * assignment — the partition holds no record yet, so whichever replica comes first may lead it.
     */
    static Decision initial(List<Integer> replicas, Set<Integer> live) {
        List<Integer> isr = new ArrayList<>();
        for (int r : replicas) {
            if (live.contains(r)) {
                isr.add(r);
            }
        }
        if (isr.isEmpty()) {
            return new Decision(NO_LEADER, replicas);
        }
        return new Decision(isr.get(0), isr);
    }

    /**
     * After the live brokers changed: a partition whose leader is not registered gets the first replica
     * in assignment order that is eligible and in the ISR, and the ISR loses its unregistered members.
     * With no such ISR member it has no leader and its ISR stays as it was (a member that returns leads
     * it again) — unless {@code unclean}, when the first eligible replica leads with an ISR of itself,
     * whatever it lacks. A partition whose leader is registered loses its unregistered followers from
     * the ISR (Kafka's ZooKeeper controller did this with a leader-epoch bump too). {@code registered}
     * are the brokers with a registration; {@code eligible} those of them not shutting down. Returns
     * null when nothing changes.
     */
    static Decision onLiveBrokersChanged(PartitionState s, List<Integer> replicas, Set<Integer> registered,
                                         Set<Integer> eligible, boolean unclean) {
        List<Integer> liveIsr = new ArrayList<>();
        for (int r : s.isr()) {
            if (registered.contains(r)) {
                liveIsr.add(r);
            }
        }
        if (s.leader() != NO_LEADER && registered.contains(s.leader())) {
            return liveIsr.size() == s.isr().size() ? null : new Decision(s.leader(), liveIsr);
        }
        Decision d = electFromIsr(replicas, liveIsr.stream().filter(eligible::contains).toList(), liveIsr);
        if (d == null && unclean) {
            d = firstLive(replicas, eligible);
        }
        if (d == null) {
            d = new Decision(NO_LEADER, s.isr());
        }
        return d.sameAs(s) ? null : d;
    }

    /** The first replica in assignment order that is one of {@code candidates}, leading {@code isr}; or null. */
    private static Decision electFromIsr(List<Integer> replicas, List<Integer> candidates, List<Integer> isr) {
        for (int r : replicas) {
            if (candidates.contains(r)) {
                return new Decision(r, isr);
            }
        }
        return null;
    }

    private static Decision firstLive(List<Integer> replicas, Set<Integer> live) {
        for (int r : replicas) {
            if (live.contains(r)) {
                return new Decision(r, List.of(r));
            }
        }
        return null;
    }

    /**
     * An unclean election asked for by an operator (ElectLeaders with type UNCLEAN): only a partition
     * without a live leader gets one — a live ISR member if there is one, else the first live replica
     * with an ISR of itself. Null when no replica is live.
     */
    static Decision unclean(PartitionState s, List<Integer> replicas, Set<Integer> live) {
        List<Integer> liveIsr = s.isr().stream().filter(live::contains).toList();
        Decision d = electFromIsr(replicas, liveIsr, liveIsr);
        return d != null ? d : firstLive(replicas, live);
    }

    /** Whether the partition has a live leader (an UNCLEAN election is then not needed). */
    static boolean hasLiveLeader(PartitionState s, Set<Integer> live) {
        return s.leader() != NO_LEADER && live.contains(s.leader());
    }

    /** The preferred replica: the first of the assignment. */
    static int preferred(List<Integer> replicas) {
        return replicas.isEmpty() ? NO_LEADER : replicas.get(0);
    }

    /**
     * Preferred-leader election: the preferred replica leads (the ISR unchanged) when it is live and in
     * the ISR. Null when it is not; the caller answers ELECTION_NOT_NEEDED before asking when it already leads.
     */
    static Decision preferredLeader(PartitionState s, List<Integer> replicas, Set<Integer> live) {
        int preferred = preferred(replicas);
        if (preferred == NO_LEADER || !live.contains(preferred) || !s.isr().contains(preferred)) {
            return null;
        }
        return new Decision(preferred, s.isr());
    }

    /**
     * Controlled shutdown of {@code broker}: a partition it leads moves to the first replica in
     * assignment order that is live and in the ISR, and the ISR loses {@code broker}; a partition it
     * follows drops it from the ISR unless it is the last member (Kafka's rule). Null when nothing
     * changes — including a partition it leads that no other ISR member can take over (it keeps
     * leading until it stops) and a partition with a single replica.
     */
    static Decision shutdown(PartitionState s, List<Integer> replicas, int broker, Set<Integer> live) {
        if (replicas.size() <= 1 || !s.isr().contains(broker) && s.leader() != broker) {
            return null;
        }
        List<Integer> isr = s.isr().stream().filter(r -> r != broker).toList();
        if (s.leader() == broker) {
            return electFromIsr(replicas, isr.stream().filter(live::contains).toList(), isr);
        }
        return isr.isEmpty() ? null : new Decision(s.leader(), isr);
    }
}
