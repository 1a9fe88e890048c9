package io.weir.broker.zk;

import io.weir.broker.metadata.PartitionState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The controller's election rules, one partition at a time. */
class LeaderElectionTest {
    private static PartitionState state(int leader, List<Integer> isr) {
        return new PartitionState(leader, 4, isr, 1, 7);
    }

    @Test
    void aNewPartitionsIsrIsEveryLiveReplicaLedByTheFirst() {
        assertEquals(new LeaderElection.Decision(2, List.of(2, 0)), LeaderElection.initial(List.of(1, 2, 0), Set.of(0, 2)));
        assertEquals(new LeaderElection.Decision(-1, List.of(1, 2)), LeaderElection.initial(List.of(1, 2), Set.of(0)));
    }

    @Test
    void aDeadLeaderIsReplacedByTheFirstLiveIsrReplicaInAssignmentOrder() {
        PartitionState s = state(0, List.of(0, 2, 1));
        LeaderElection.Decision d = LeaderElection.onLiveBrokersChanged(s, List.of(0, 1, 2), Set.of(1, 2), Set.of(1, 2), false);
        assertEquals(new LeaderElection.Decision(1, List.of(2, 1)), d);
        // a replica out of the ISR is never elected cleanly
        d = LeaderElection.onLiveBrokersChanged(state(0, List.of(0, 2)), List.of(0, 1, 2), Set.of(1, 2), Set.of(1, 2), false);
        assertEquals(new LeaderElection.Decision(2, List.of(2)), d);
        // nor is a broker shutting down
        d = LeaderElection.onLiveBrokersChanged(s, List.of(0, 1, 2), Set.of(1, 2), Set.of(2), false);
        assertEquals(new LeaderElection.Decision(2, List.of(2, 1)), d);
    }

    @Test
    void withNoLiveIsrMemberThePartitionIsOfflineWithItsIsrKeptUnlessUnclean() {
        PartitionState s = state(0, List.of(0));
        assertEquals(new LeaderElection.Decision(-1, List.of(0)),
            LeaderElection.onLiveBrokersChanged(s, List.of(0, 1), Set.of(1), Set.of(1), false));
        assertEquals(new LeaderElection.Decision(1, List.of(1)),
            LeaderElection.onLiveBrokersChanged(s, List.of(0, 1), Set.of(1), Set.of(1), true));
        // already offline: nothing to write; its ISR member's return elects it
        PartitionState offline = state(-1, List.of(0));
        assertNull(LeaderElection.onLiveBrokersChanged(offline, List.of(0, 1), Set.of(1), Set.of(1), false));
        assertEquals(new LeaderElection.Decision(0, List.of(0)),
            LeaderElection.onLiveBrokersChanged(offline, List.of(0, 1), Set.of(0, 1), Set.of(0, 1), false));
    }

    @Test
    void aDeadFollowerLeavesTheIsrAndALiveLeaderStays() {
        assertEquals(new LeaderElection.Decision(1, List.of(1)),
            LeaderElection.onLiveBrokersChanged(state(1, List.of(1, 2)), List.of(1, 2), Set.of(1), Set.of(1), false));
        assertNull(LeaderElection.onLiveBrokersChanged(state(1, List.of(1, 2)), List.of(1, 2), Set.of(1, 2), Set.of(1, 2), false));
        // a leader shutting down still leads until it is moved or gone
        assertNull(LeaderElection.onLiveBrokersChanged(state(1, List.of(1, 2)), List.of(1, 2), Set.of(1, 2), Set.of(2), false));
    }

    @Test
    void thePreferredReplicaLeadsOnlyWhenLiveAndInSync() {
        assertEquals(new LeaderElection.Decision(0, List.of(1, 0)),
            LeaderElection.preferredLeader(state(1, List.of(1, 0)), List.of(0, 1), Set.of(0, 1)));
        assertNull(LeaderElection.preferredLeader(state(1, List.of(1)), List.of(0, 1), Set.of(0, 1)));
        assertNull(LeaderElection.preferredLeader(state(1, List.of(1, 0)), List.of(0, 1), Set.of(1)));
    }

    @Test
    void anUncleanElectionPrefersALiveIsrMemberThenAnyLiveReplica() {
        assertEquals(new LeaderElection.Decision(2, List.of(2)),
            LeaderElection.unclean(state(-1, List.of(0, 2)), List.of(0, 1, 2), Set.of(1, 2)));
        assertEquals(new LeaderElection.Decision(1, List.of(1)),
            LeaderElection.unclean(state(-1, List.of(0)), List.of(0, 1, 2), Set.of(1, 2)));
        assertNull(LeaderElection.unclean(state(-1, List.of(0)), List.of(0, 1), Set.of(2)));
    }

    @Test
    void aControlledShutdownMovesLeadershipToAnotherLiveIsrMemberAndLeavesIsrs() {
        assertEquals(new LeaderElection.Decision(2, List.of(2, 1)),
            LeaderElection.shutdown(state(0, List.of(0, 2, 1)), List.of(0, 2, 1), 0, Set.of(2)));
        // no other eligible ISR member: it keeps leading
        assertNull(LeaderElection.shutdown(state(0, List.of(0, 1)), List.of(0, 1), 0, Set.of(2)));
        // a single replica cannot move
        assertNull(LeaderElection.shutdown(state(0, List.of(0)), List.of(0), 0, Set.of(1)));
        // a follower leaves the ISR, unless it is its last member
        assertEquals(new LeaderElection.Decision(1, List.of(1)),
            LeaderElection.shutdown(state(1, List.of(1, 0)), List.of(1, 0), 0, Set.of(1)));
        assertNull(LeaderElection.shutdown(state(-1, List.of(0)), List.of(1, 0), 0, Set.of(1)));
    }
}
