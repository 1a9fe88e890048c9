package io.weir.broker.zk;

import io.weir.common.utils.Json;

import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reserves blocks of producer ids in ZooKeeper ({@code /latest_producer_id_block}), as Kafka's ZooKeeper
 * mode did: read the last block, write the next one with a conditional {@code setData} naming the
 * version read, retry on a conflict. A block is reserved (durable in ZooKeeper) before any id of it is
 * handed out, so ids are unique across brokers and restarts. Thread-safe (ZooKeeper serializes).
 */
public final class ZkProducerIdBlocks {
    private static final Logger log = LoggerFactory.getLogger(ZkProducerIdBlocks.class);

    /** A reserved range of ids, {@code [firstId, firstId + size)}. */
    public record Block(long firstId, long size) {
        public long endExclusive() {
            return firstId + size;
        }
    }

    private final CuratorFramework client;
    private final int brokerId;

    public ZkProducerIdBlocks(CuratorFramework client, int brokerId) {
        this.client = client;
        this.brokerId = brokerId;
    }

    /** Reserves the next {@code size} ids after the last block any broker reserved. */
    public Block reserve(long size) {
        for (int attempt = 0; ; attempt++) {
            try {
                Stat stat = new Stat();
                byte[] data;
                try {
                    data = client.getData().storingStatIn(stat).forPath(ZkPaths.PRODUCER_ID_BLOCK);
                } catch (KeeperException.NoNodeException e) {
                    data = null;
                }
                long first = data == null ? 0 : Long.parseLong(String.valueOf(
                    Json.parseObject(data).get("block_end"))) + 1;
                byte[] next = blockJson(brokerId, first, first + size - 1);
                if (data == null) {
                    client.create().creatingParentsIfNeeded().forPath(ZkPaths.PRODUCER_ID_BLOCK, next);
                } else {
                    client.setData().withVersion(stat.getVersion()).forPath(ZkPaths.PRODUCER_ID_BLOCK, next);
                }
                log.debug("broker {} reserved producer ids {}..{}", brokerId, first, first + size - 1);
                return new Block(first, size);
            } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
                // another broker reserved a block between our read and write: read again
                if (attempt > 1000) {
                    throw new IllegalStateException("cannot reserve a producer id block: too much contention", e);
                }
            } catch (Exception e) {
                throw ZkMetadataStore.zkFailure("reserve a producer id block", e);
            }
        }
    }

    /** Makes {@code firstFreeId} the next id any broker hands out (imports a file-based high mark). */
    static void createInitialBlock(CuratorFramework client, int brokerId, long firstFreeId) {
        try {
            client.create().creatingParentsIfNeeded().forPath(ZkPaths.PRODUCER_ID_BLOCK,
                blockJson(brokerId, 0, firstFreeId - 1));
        } catch (KeeperException.NodeExistsException ignored) {
            // the cluster already allocates ids; it is ahead of a broker that just joined
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("create " + ZkPaths.PRODUCER_ID_BLOCK, e);
        }
    }

    private static byte[] blockJson(int brokerId, long start, long endInclusive) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", 1);
        json.put("broker", brokerId);
        json.put("block_start", Long.toString(start));
        json.put("block_end", Long.toString(endInclusive));
        return Json.writeBytes(json);
    }
}
