package io.weir.broker.server;

import java.util.function.LongFunction;

/**
 * Hands out producer ids for InitProducerId, unique across the cluster and its restarts.
 *
 * <p>Ids are reserved in blocks of {@link #BLOCK_SIZE} from a shared allocator (in a cluster,
 * {@code /latest_producer_id_block} in ZooKeeper, written conditionally: see
 * {@code io.weir.broker.zk.ZkProducerIdBlocks}). The reservation is durable before the first id of a
 * block is returned, so after a restart — clean or {@code kill -9} — a broker takes a new block and
 * never repeats an id, even if some ids of its last block were never used. One reservation per block
 * keeps InitProducerId cheap.
 *
 * <p>Thread-safe: allocation is serialized on this object.
 */
public final class ProducerIdManager {
    /** Ids reserved per durable write (Kafka's block size). */
    public static final long BLOCK_SIZE = 1000;

    private final LongFunction<Long> reserveBlock;
    private long nextId;
    private long blockEndExclusive;

    /**
     * @param reserveBlock reserves {@code size} ids no one else will get and returns the first of them
     *                     (durably, before returning)
     */
    public ProducerIdManager(LongFunction<Long> reserveBlock) {
        this.reserveBlock = reserveBlock;
    }

    /** A producer id never handed out before in this cluster. */
    public synchronized long nextProducerId() {
        if (nextId >= blockEndExclusive) {
            long first = reserveBlock.apply(BLOCK_SIZE);
            nextId = first;
            blockEndExclusive = first + BLOCK_SIZE;
        }
        return nextId++;
    }
}
