package io.weir.broker.group;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life cycle of a classic group, with the transitions it allows:
 * <pre>
 *   Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
 *     ▲                 │  ▲                                                   │ leader's SyncGroup
 *     └─ nobody joined ─┘  └──────── member joins, leaves or expires ◀── Stable ◀┘
 *   any state ──▶ Dead (deleted, or expired with no members and no offsets)
 * </pre>
 * The names are the ones Kafka's tools print (DescribeGroups, ListGroups).
 */
public enum GroupState {
    EMPTY("Empty"),
    PREPARING_REBALANCE("PreparingRebalance"),
    COMPLETING_REBALANCE("CompletingRebalance"),
    STABLE("Stable"),
    DEAD("Dead");

    private final String wireName;
    private Set<GroupState> validPrevious;

    static {
        EMPTY.validPrevious = EnumSet.of(PREPARING_REBALANCE);
        PREPARING_REBALANCE.validPrevious = EnumSet.of(EMPTY, STABLE, COMPLETING_REBALANCE);
        COMPLETING_REBALANCE.validPrevious = EnumSet.of(PREPARING_REBALANCE);
        STABLE.validPrevious = EnumSet.of(COMPLETING_REBALANCE);
        DEAD.validPrevious = EnumSet.allOf(GroupState.class);
    }

    GroupState(String wireName) {
        this.wireName = wireName;
    }

    /** The name on the wire and in tools, e.g. "PreparingRebalance". */
    public String wireName() {
        return wireName;
    }

    boolean canFollow(GroupState previous) {
        return validPrevious.contains(previous);
    }

    /** The state with this wire name (case-insensitive), or null. */
    public static GroupState forWireName(String name) {
        for (GroupState s : values()) {
            if (s.wireName.equalsIgnoreCase(name)) {
                return s;
            }
        }
        return null;
    }
}
