package io.weir.broker.coordinator;

import io.weir.broker.coordinator.runtime.CoordinatorRuntime;
import io.weir.broker.coordinator.runtime.CoordinatorSerde;
import io.weir.broker.coordinator.runtime.CoordinatorShard;
import io.weir.broker.coordinator.runtime.InMemoryPartitionWriter;
import io.weir.broker.coordinator.runtime.SerializedRecord;
import io.weir.broker.testing.FixedMetadataStore;
import io.weir.common.TopicPartition;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.MockTimerService;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where a coordinator key is served, by the cluster's metadata (a fixed store) and the leadership
 * events the topic receives, on a runtime over an in-memory log driven on the test's thread.
 */
class CoordinatorTopicTest {
    private static final int ME = 1;
    private static final String NAME = "__coord";

    /** A shard with no state: these tests are about where shards live, not what they hold. */
    private static final class EmptyShard implements CoordinatorShard<String> {
        @Override
        public void replay(long offset, long producerId, short producerEpoch, String record) {
        }
    }

    private static final CoordinatorSerde<String> SERDE = new CoordinatorSerde<>() {
        @Override
        public SerializedRecord serialize(String record) {
            return new SerializedRecord(ByteBuffer.wrap(record.getBytes()), null);
        }

        @Override
        public String deserialize(ByteBuffer key, ByteBuffer value) {
            return "";
        }
    };

    private final MockTime time = new MockTime(1_000);
    private final InMemoryPartitionWriter writer = new InMemoryPartitionWriter();
    // partition 0 led here, 1 by broker 2, 2 by nobody
    private final FixedMetadataStore store = new FixedMetadataStore().topic(NAME, 3, ME, 2, -1)
        .liveBroker(ME, "127.0.0.1", 9001).liveBroker(2, "127.0.0.1", 9002);
    private final CoordinatorRuntime<EmptyShard, String> runtime = new CoordinatorRuntime<>("test", time, Runnable::run,
        new MockTimerService(time), writer, writer, SERDE, (tp, timer) -> new EmptyShard());
    private final CoordinatorTopic<EmptyShard, String> topic = new CoordinatorTopic<>(
        new CoordinatorTopic.Settings(NAME, 3, (short) 3, 2, 1024), ME, store, null, runtime, tp -> -1);

    /** A key whose partition is {@code partition}. */
    private String keyOf(int partition) {
        for (int i = 0; ; i++) {
            if (topic.partitionFor("key-" + i) == partition) {
                return "key-" + i;
            }
        }
    }

    private static TopicPartition tp(int partition) {
        return new TopicPartition(NAME, partition);
    }

    @Test
    void shouldNameTheLeaderOfTheKeysPartitionAndRefuseKeysItDoesNotLead() {
        topic.onBecomeLeader(tp(0), 0);
        topic.onBecomeLeader(tp(1), 0); // a replica loaded where the metadata names another leader
        CoordinatorTopic.Location here = topic.findCoordinator(keyOf(0)).join();
        assertTrue(here.isLocal());
        assertEquals(Errors.NONE, topic.shardError(keyOf(0)));

        CoordinatorTopic.Location there = topic.findCoordinator(keyOf(1)).join();
        assertEquals(Errors.NONE, there.error());
        assertEquals(2, there.broker().id());
        assertEquals(9002, there.broker().port());
        assertEquals(Errors.NOT_COORDINATOR, topic.shardError(keyOf(1)), "served only by its partition's leader");

        assertEquals(Errors.COORDINATOR_NOT_AVAILABLE, topic.findCoordinator(keyOf(2)).join().error(), "no leader");
        assertNull(topic.findCoordinator(keyOf(2)).join().broker());
        store.leader(tp(1), 3, 1); // a leader that is not registered (dead)
        assertEquals(Errors.COORDINATOR_NOT_AVAILABLE, topic.coordinatorOf(keyOf(1)).error(), "no live leader");
    }

    @Test
    void shouldLoadAndUnloadShardsInLeaderEpochOrder() {
        String key = keyOf(0);
        assertEquals(Errors.NOT_COORDINATOR, topic.shardError(key), "nothing loaded yet");
        topic.onBecomeLeader(tp(0), 1);
        assertEquals(Errors.NONE, topic.shardError(key));
        topic.onResign(tp(0), 2);
        assertEquals(Errors.NOT_COORDINATOR, topic.shardError(key));
        topic.onBecomeLeader(tp(0), 2); // overtaken by the resignation: stale
        assertEquals(Errors.NOT_COORDINATOR, topic.shardError(key));
        topic.onBecomeLeader(tp(0), 3);
        assertEquals(Errors.NONE, topic.shardError(key));

        topic.onResign(new TopicPartition("other", 0), 9); // another topic's partition: not ours
        assertEquals(Errors.NONE, topic.shardError(key));
        topic.stop();
        topic.onResign(tp(0), 9);
        assertEquals(Errors.NONE, topic.shardError(key), "stopped: events are ignored");
    }
}
