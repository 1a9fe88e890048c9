package io.weir.admin;

/**
 * The kinds of leader election {@link Admin#electLeaders} asks for: the preferred replica (the first of
 * the assignment) when it is live and in sync, or — for a partition with no live leader — any live
 * replica, even one out of sync (records it lacks are lost).
 */
public enum ElectionType {
    PREFERRED((byte) 0), UNCLEAN((byte) 1);

    /** The value on the wire (ElectLeaders' electionType). */
    public final byte value;

    ElectionType(byte value) {
        this.value = value;
    }
}
