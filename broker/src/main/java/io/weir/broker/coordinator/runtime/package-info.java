/**
 * The coordinator runtime: one engine for every coordinator whose state is records in an internal
 * compacted topic (groups in {@code __consumer_offsets}, transactions in {@code __transaction_state}).
 *
 * <p>A coordinator supplies a {@link io.weir.broker.coordinator.runtime.CoordinatorShard} (the state of
 * one partition, changed only by {@code replay}), a
 * {@link io.weir.broker.coordinator.runtime.CoordinatorSerde} for its records, and operations that
 * return a {@link io.weir.broker.coordinator.runtime.CoordinatorResult} (records + response). The
 * {@link io.weir.broker.coordinator.runtime.CoordinatorRuntime} runs each partition's operations one at
 * a time on its own queue over a shared thread pool, appends records through a
 * {@link io.weir.broker.coordinator.runtime.PartitionWriter} (no lock held), replays them once appended,
 * and answers when the writer reports them committed. Loading a partition replays its log
 * ({@link io.weir.broker.coordinator.runtime.CoordinatorLoader}) through the same {@code replay}; shards
 * are loaded and unloaded as this broker gains and loses leadership of their partitions, in leader-epoch
 * order ({@link io.weir.broker.coordinator.CoordinatorTopic}).
 * Timeouts are {@link io.weir.broker.coordinator.runtime.CoordinatorTimer} entries on a
 * {@link io.weir.common.utils.TimerService} (a thread in the broker, a mock in tests),
 * run as operations of the shard.
 *
 * <p>Transactions reach a coordinator partition too: a transactional write appends its records as one
 * batch of a producer's transaction and replays them with its producer id, and the transaction's COMMIT or
 * ABORT marker is appended and replayed ({@code replayEndTransactionMarker}) through the same queue, so
 * the shard keeps such records pending until their transaction is decided, on the write and load paths alike.
 */
package io.weir.broker.coordinator.runtime;
