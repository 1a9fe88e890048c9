package io.weir.admin;

/**
 * What {@link Admin#fenceProducers} did to one transactional id: the producer id and the bumped epoch
 * that any older producer with the id now fails against. Immutable.
 */
public record FenceProducersResult(long producerId, short producerEpoch) {
}
