package io.weir.broker.zk;

/**
 * What one controller term is: the broker, its controller epoch, and the version of the
 * {@code /controller_epoch} znode its election wrote. Every write of the term is a ZooKeeper
 * transaction that first checks that version ({@link ZkController#fencedCommit}), so once another
 * broker is elected (and bumps the epoch, changing the version) any write of this term fails — even
 * one from a controller that was paused and does not yet know it was deposed. Immutable.
 */
public record ControllerContext(int brokerId, int controllerEpoch, int epochZkVersion) {
}
