/**
 * The transaction coordinator: transactional ids, their producer ids and epochs, and the two-phase end
 * of their transactions, kept in the compacted internal topic {@code __transaction_state}.
 *
 * <p>{@link io.weir.broker.transaction.TransactionCoordinatorService} routes an id to the
 * {@link io.weir.broker.transaction.TransactionCoordinatorShard} of its partition on the coordinator
 * runtime; the shard's state ({@link io.weir.broker.transaction.TransactionMetadata}, one per id, with
 * the state machine of {@link io.weir.broker.transaction.TransactionState}) changes only by replaying its
 * records ({@link io.weir.broker.transaction.TransactionRecords}), so a restarted coordinator rebuilds it
 * from the log and finishes what it had prepared. Markers go to partition leaders through a
 * {@link io.weir.broker.transaction.TransactionMarkerWriter}: local appends for partitions this broker
 * leads, WriteTxnMarkers requests to the others' leaders
 * ({@link io.weir.broker.transaction.RoutingTransactionMarkerWriter}); the markers of
 * {@code __consumer_offsets} partitions go through the group coordinator, which keeps transactional
 * offset commits pending until then. In a cluster the coordinator of an id is the leader of its
 * partition, and a partition leader asks it about a transactional batch's partitions by
 * AddPartitionsToTxn ({@link io.weir.broker.transaction.TransactionCoordinatorClient}).
 *
 * <p>Transactions V2 (KIP-890) and V1 are both served: V2 producers bump the epoch at every end and add
 * partitions implicitly (Produce v12, TxnOffsetCommit v5); V1 producers register partitions with
 * AddPartitionsToTxn and every transactional batch's partition is verified before it is appended.
 */
package io.weir.broker.transaction;
