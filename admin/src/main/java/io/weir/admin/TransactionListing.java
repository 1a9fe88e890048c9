package io.weir.admin;

/**
 * One transactional id from {@link Admin#listTransactions}: its current producer id and the
 * coordinator's state name ("Empty", "Ongoing", "PrepareCommit", "CompleteAbort"...). Immutable.
 */
public record TransactionListing(String transactionalId, long producerId, String state) {
}
