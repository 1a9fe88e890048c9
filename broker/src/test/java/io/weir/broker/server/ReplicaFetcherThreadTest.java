package io.weir.broker.server;

import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatchBuilder;
import io.weir.log.EpochEndOffset;
import io.weir.protocol.Records;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The follower's pure decisions: KIP-279 truncation, and cutting a fetch at its last whole batch. */
class ReplicaFetcherThreadTest {
    @Test
    void shouldTruncateToTheSmallerEndOfTheCommonEpoch() {
        // the follower has epoch 3 up to its log end 120; the leader's epoch 3 ended at 100
        assertEquals(new ReplicaFetcherThread.Truncation(100, true),
            ReplicaFetcherThread.truncation(3, 100, new EpochEndOffset(3, 120), 120, 90));
        // the leader's epoch ended later than the follower's log: nothing to cut
        assertEquals(new ReplicaFetcherThread.Truncation(120, true),
            ReplicaFetcherThread.truncation(3, 150, new EpochEndOffset(3, 120), 120, 90));
    }

    @Test
    void shouldCutToItsOwnEndOfAnOlderEpochAndAskAgainWhenItLacksTheLeadersEpoch() {
        // the leader answered epoch 2, which this follower never had: its largest epoch below is 1, ending at 70
        assertEquals(new ReplicaFetcherThread.Truncation(70, false),
            ReplicaFetcherThread.truncation(2, 80, new EpochEndOffset(1, 70), 120, 50));
    }

    @Test
    void shouldKeepTheCommittedPrefixWhenTheLeaderKnowsNoEpochAtOrBelow() {
        assertEquals(new ReplicaFetcherThread.Truncation(50, true),
            ReplicaFetcherThread.truncation(-1, -1, new EpochEndOffset(-1, -1), 120, 50));
        // the follower knows no epoch at or below the leader's: the leader's end offset bounds it
        assertEquals(new ReplicaFetcherThread.Truncation(30, true),
            ReplicaFetcherThread.truncation(0, 30, new EpochEndOffset(-1, -1), 120, 50));
    }

    @Test
    void shouldDropAPartialBatchAtTheEndOfAFetch() {
        ByteBuffer one = new RecordBatchBuilder(CompressionType.NONE).append(1L, null, new byte[40]).build();
        ByteBuffer two = new RecordBatchBuilder(CompressionType.NONE).append(2L, null, new byte[40]).build();
        ByteBuffer fetched = ByteBuffer.allocate(one.remaining() + two.remaining() - 7);
        fetched.put(one.duplicate());
        fetched.put(two.duplicate().limit(two.limit() - 7));
        fetched.flip();
        MemoryRecords whole = ReplicaFetcherThread.wholeBatches(Records.wrap(fetched));
        assertEquals(one.remaining(), whole.sizeInBytes());
        assertEquals(0, ReplicaFetcherThread.wholeBatches(Records.wrap(fetched.duplicate().limit(10))).sizeInBytes());
    }
}
