package io.weir.compat.kafka3;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.ApiMessages;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.LeaderAndIsrRequestData;
import org.apache.kafka.common.message.LeaderAndIsrResponseData;
import org.apache.kafka.common.message.StopReplicaRequestData;
import org.apache.kafka.common.message.StopReplicaResponseData;
import org.apache.kafka.common.message.UpdateMetadataRequestData;
import org.apache.kafka.common.message.UpdateMetadataResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ZooKeeper-mode controller's requests (LeaderAndIsr, UpdateMetadata, StopReplica), which Kafka 4 removed,
 * against Kafka 3.9's own message classes: every version Weir implements, request and response, written by
 * Kafka with every field set (tagged ones included) must be read by Weir to the end and written back byte for
 * byte.
 */
class ControllerRequestsWireTest {
    private static ByteBuffer kafkaBytes(ApiMessage data, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buf = ByteBuffer.allocate(data.size(cache, version));
        data.write(new ByteBufferAccessor(buf), cache, version);
        return buf.flip();
    }

    private static void roundTrip(ApiKeys api, boolean request, ApiMessage data) {
        roundTrip(api, request, v -> data);
    }

    /** {@code data} gives the message for a version (fields of later versions only there). */
    private static void roundTrip(ApiKeys api, boolean request, java.util.function.IntFunction<ApiMessage> data) {
        for (short v = api.lowestVersion(); v <= api.highestVersion(); v++) {
            String what = api.apiName() + (request ? "Request" : "Response") + " v" + v;
            ByteBuffer kafka = kafkaBytes(data.apply(v), v);
            ProtocolReader reader = new ProtocolReader(kafka.duplicate());
            io.weir.protocol.ApiMessage weir = request ? ApiMessages.readRequest(api.id(), v, reader)
                : ApiMessages.readResponse(api.id(), v, reader);
            assertEquals(0, reader.remaining(), what + ": Weir left bytes unread");
            ByteBuffer weirBytes = ByteBuffer.allocate(weir.size(v));
            weir.write(new ProtocolWriter(weirBytes), v);
            assertEquals(kafka, weirBytes.flip(), what + ": bytes differ");
        }
    }

    @Test
    void shouldReadAndWriteLeaderAndIsrAsKafka39Does() {
        roundTrip(ApiKeys.LEADER_AND_ISR, true, v -> new LeaderAndIsrRequestData().setControllerId(3).setControllerEpoch(7)
            .setBrokerEpoch(4242L).setType((byte) 2).setTopicStates(List.of(
                new LeaderAndIsrRequestData.LeaderAndIsrTopicState().setTopicName("orders").setTopicId(Uuid.randomUuid())
                    .setPartitionStates(List.of(new LeaderAndIsrRequestData.LeaderAndIsrPartitionState()
                        .setPartitionIndex(2).setControllerEpoch(6).setLeader(1).setLeaderEpoch(9).setIsr(List.of(1, 2))
                        .setPartitionEpoch(11).setReplicas(List.of(1, 2, 3)).setAddingReplicas(List.of(3))
                        .setRemovingReplicas(List.of(4)).setIsNew(true).setLeaderRecoveryState((byte) (v >= 6 ? 1 : 0))))))
            .setLiveLeaders(List.of(new LeaderAndIsrRequestData.LeaderAndIsrLiveLeader().setBrokerId(1)
                .setHostName("h1").setPort(9092))));
        LeaderAndIsrResponseData.LeaderAndIsrTopicErrorCollection topics =
            new LeaderAndIsrResponseData.LeaderAndIsrTopicErrorCollection();
        topics.add(new LeaderAndIsrResponseData.LeaderAndIsrTopicError().setTopicId(Uuid.randomUuid())
            .setPartitionErrors(List.of(new LeaderAndIsrResponseData.LeaderAndIsrPartitionError().setPartitionIndex(2)
                .setErrorCode((short) 11))));
        roundTrip(ApiKeys.LEADER_AND_ISR, false, new LeaderAndIsrResponseData().setErrorCode((short) 77).setTopics(topics));
    }

    @Test
    void shouldReadAndWriteUpdateMetadataAsKafka39Does() {
        roundTrip(ApiKeys.UPDATE_METADATA, true, v -> new UpdateMetadataRequestData().setControllerId(3)
            .setType((byte) (v >= 8 ? 1 : 0))
            .setControllerEpoch(7).setBrokerEpoch(4242L).setTopicStates(List.of(
                new UpdateMetadataRequestData.UpdateMetadataTopicState().setTopicName("orders").setTopicId(Uuid.randomUuid())
                    .setPartitionStates(List.of(new UpdateMetadataRequestData.UpdateMetadataPartitionState()
                        .setPartitionIndex(0).setControllerEpoch(6).setLeader(2).setLeaderEpoch(5).setIsr(List.of(2))
                        .setZkVersion(8).setReplicas(List.of(2, 3)).setOfflineReplicas(List.of(3))))))
            .setLiveBrokers(List.of(new UpdateMetadataRequestData.UpdateMetadataBroker().setId(2).setRack("r1")
                .setEndpoints(List.of(new UpdateMetadataRequestData.UpdateMetadataEndpoint().setHost("h2").setPort(9093)
                    .setListener("PLAINTEXT").setSecurityProtocol((short) 0))),
                new UpdateMetadataRequestData.UpdateMetadataBroker().setId(4).setRack(null).setEndpoints(List.of()))));
        roundTrip(ApiKeys.UPDATE_METADATA, false, new UpdateMetadataResponseData().setErrorCode((short) 11));
    }

    @Test
    void shouldReadAndWriteStopReplicaAsKafka39Does() {
        StopReplicaRequestData request = new StopReplicaRequestData().setControllerId(3).setControllerEpoch(7)
            .setBrokerEpoch(4242L).setTopicStates(List.of(new StopReplicaRequestData.StopReplicaTopicState()
                .setTopicName("orders").setPartitionStates(List.of(new StopReplicaRequestData.StopReplicaPartitionState()
                    .setPartitionIndex(1).setLeaderEpoch(-2).setDeletePartition(true)))));
        roundTrip(ApiKeys.STOP_REPLICA, true, request);
        roundTrip(ApiKeys.STOP_REPLICA, false, new StopReplicaResponseData().setErrorCode((short) 0).setPartitionErrors(
            List.of(new StopReplicaResponseData.StopReplicaPartitionError().setTopicName("orders").setPartitionIndex(1)
                .setErrorCode((short) 74))));
    }
}
