package io.weir.admin;

/**
 * One replica in a log directory: its size in bytes, how far its log end is ahead of the high
 * watermark (or behind the current replica, for a future replica), and whether it is a future replica
 * being moved in by AlterReplicaLogDirs. Immutable.
 */
public record ReplicaInfo(long size, long offsetLag, boolean isFuture) {
}
