package io.weir.admin;

import io.weir.admin.errors.InvalidPartitionsException;
import io.weir.admin.errors.TopicExistsException;
import io.weir.admin.errors.UnknownTopicOrPartitionException;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.client.FakeBroker;
import io.weir.protocol.client.TimeoutException;
import io.weir.protocol.message.CreatePartitionsRequest;
import io.weir.protocol.message.CreatePartitionsResponse;
import io.weir.protocol.message.CreateTopicsRequest;
import io.weir.protocol.message.CreateTopicsResponse;
import io.weir.protocol.message.DeleteTopicsRequest;
import io.weir.protocol.message.DeleteTopicsResponse;
import io.weir.protocol.message.DescribeClusterRequest;
import io.weir.protocol.message.DescribeClusterResponse;
import io.weir.protocol.message.DescribeConfigsRequest;
import io.weir.protocol.message.DescribeConfigsResponse;
import io.weir.protocol.message.IncrementalAlterConfigsRequest;
import io.weir.protocol.message.IncrementalAlterConfigsResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Admin client's request building and result mapping against a scripted one-node broker (real
 * socket, real codec). The real broker's behaviour is covered by the integration tests.
 */
class AdminFakeBrokerTest {
    private record Topic(UUID id, int partitions, Map<String, String> configs) {
    }

    private final Map<String, Topic> topics = new ConcurrentHashMap<>();
    private final AtomicInteger notControllerReplies = new AtomicInteger();
    private FakeBroker broker;
    private Admin admin;

    @BeforeEach
    void setUp() throws Exception {
        broker = new FakeBroker(this::handle);
        admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + broker.port(), "client.id", "admin-test",
            "default.api.timeout.ms", "10000", "retry.backoff.ms", "10"));
    }

    @AfterEach
    void tearDown() throws Exception {
        admin.close(Duration.ZERO);
        broker.close();
    }

    private ApiMessage handle(RequestHeader h, ApiMessage req, int conn) {
        if (req instanceof MetadataRequest m) {
            MetadataResponse r = new MetadataResponse().setClusterId("fake").setControllerId(0).setBrokers(List.of(
                new MetadataResponse.MetadataResponseBroker().setNodeId(0).setHost("127.0.0.1").setPort(broker.port())));
            List<String> names = m.topics() == null ? new ArrayList<>(topics.keySet())
                : m.topics().stream().map(MetadataRequest.MetadataRequestTopic::name).toList();
            List<MetadataResponse.MetadataResponseTopic> out = new ArrayList<>();
            for (String n : names) {
                Topic t = topics.get(n);
                if (t == null) {
                    out.add(new MetadataResponse.MetadataResponseTopic().setName(n)
                        .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                    continue;
                }
                List<MetadataResponse.MetadataResponsePartition> ps = new ArrayList<>();
                for (int p = t.partitions() - 1; p >= 0; p--) {
                    ps.add(new MetadataResponse.MetadataResponsePartition().setPartitionIndex(p).setLeaderId(0)
                        .setReplicaNodes(List.of(0)).setIsrNodes(List.of(0)));
                }
                out.add(new MetadataResponse.MetadataResponseTopic().setName(n).setTopicId(t.id())
                    .setIsInternal(n.startsWith("__")).setPartitions(ps));
            }
            return r.setTopics(out);
        }
        if (req instanceof CreateTopicsRequest c) {
            List<CreateTopicsResponse.CreatableTopicResult> out = new ArrayList<>();
            for (CreateTopicsRequest.CreatableTopic t : c.topics()) {
                CreateTopicsResponse.CreatableTopicResult r = new CreateTopicsResponse.CreatableTopicResult().setName(t.name());
                if (notControllerReplies.getAndDecrement() > 0) {
                    r.setErrorCode(Errors.NOT_CONTROLLER.code());
                } else if (topics.containsKey(t.name())) {
                    r.setErrorCode(Errors.TOPIC_ALREADY_EXISTS.code()).setErrorMessage("Topic '" + t.name() + "' already exists.");
                } else {
                    int n = t.numPartitions() < 0 ? 1 : t.numPartitions();
                    UUID id = UUID.randomUUID();
                    Map<String, String> cfg = new TreeMap<>();
                    t.configs().forEach(x -> cfg.put(x.name(), x.value()));
                    if (!c.validateOnly()) {
                        topics.put(t.name(), new Topic(id, n, cfg));
                    }
                    r.setTopicId(id).setNumPartitions(n).setReplicationFactor((short) 1);
                }
                out.add(r);
            }
            return new CreateTopicsResponse().setTopics(out);
        }
        if (req instanceof DeleteTopicsRequest d) {
            List<String> names = h.apiVersion() >= 6
                ? d.topics().stream().map(DeleteTopicsRequest.DeleteTopicState::name).toList() : d.topicNames();
            List<DeleteTopicsResponse.DeletableTopicResult> out = new ArrayList<>();
            for (String n : names) {
                out.add(new DeleteTopicsResponse.DeletableTopicResult().setName(n).setErrorCode(
                    topics.remove(n) == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION.code() : Errors.NONE.code()));
            }
            return new DeleteTopicsResponse().setResponses(out);
        }
        if (req instanceof CreatePartitionsRequest c) {
            List<CreatePartitionsResponse.CreatePartitionsTopicResult> out = new ArrayList<>();
            for (CreatePartitionsRequest.CreatePartitionsTopic t : c.topics()) {
                Topic old = topics.get(t.name());
                CreatePartitionsResponse.CreatePartitionsTopicResult r =
                    new CreatePartitionsResponse.CreatePartitionsTopicResult().setName(t.name());
                if (old == null) {
                    r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (t.count() <= old.partitions()) {
                    r.setErrorCode(Errors.INVALID_PARTITIONS.code()).setErrorMessage("Topic currently has "
                        + old.partitions() + " partitions, which is higher than the requested " + t.count() + ".");
                } else {
                    topics.put(t.name(), new Topic(old.id(), t.count(), old.configs()));
                }
                out.add(r);
            }
            return new CreatePartitionsResponse().setResults(out);
        }
        if (req instanceof DescribeConfigsRequest d) {
            DescribeConfigsRequest.DescribeConfigsResource res = d.resources().get(0);
            Topic t = topics.get(res.resourceName());
            DescribeConfigsResponse.DescribeConfigsResult r = new DescribeConfigsResponse.DescribeConfigsResult()
                .setResourceType(res.resourceType()).setResourceName(res.resourceName());
            if (t == null) {
                r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            } else {
                List<DescribeConfigsResponse.DescribeConfigsResourceResult> cs = new ArrayList<>();
                t.configs().forEach((k, v) -> cs.add(new DescribeConfigsResponse.DescribeConfigsResourceResult()
                    .setName(k).setValue(v).setConfigSource((byte) 1)));
                cs.add(new DescribeConfigsResponse.DescribeConfigsResourceResult().setName("segment.bytes")
                    .setValue("1073741824").setConfigSource((byte) 5));
                r.setConfigs(cs);
            }
            return new DescribeConfigsResponse().setResults(List.of(r));
        }
        if (req instanceof IncrementalAlterConfigsRequest a) {
            IncrementalAlterConfigsRequest.AlterConfigsResource res = a.resources().get(0);
            Topic t = topics.get(res.resourceName());
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse r =
                new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse().setResourceName(res.resourceName())
                    .setResourceType(res.resourceType());
            if (t == null) {
                r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            } else {
                for (IncrementalAlterConfigsRequest.AlterableConfig c : res.configs()) {
                    if (c.configOperation() == 0) {
                        t.configs().put(c.name(), c.value());
                    } else if (c.configOperation() == 1) {
                        t.configs().remove(c.name());
                    }
                }
            }
            return new IncrementalAlterConfigsResponse().setResponses(List.of(r));
        }
        if (req instanceof DescribeClusterRequest) {
            return new DescribeClusterResponse().setClusterId("fake").setControllerId(0).setBrokers(List.of(
                new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(0).setHost("127.0.0.1").setPort(broker.port())));
        }
        return null;
    }

    private static Throwable failure(java.util.concurrent.CompletableFuture<?> f) {
        return assertThrows(CompletionException.class, f::join).getCause();
    }

    @Test
    void shouldCreateListDescribeAndDeleteTopics() {
        CreatedTopic created = admin.createTopics(List.of(new NewTopic("t", 3, (short) 1)
            .configs(Map.of("cleanup.policy", "compact")))).value("t").join();
        assertEquals(3, created.numPartitions());
        assertEquals(Map.of("cleanup.policy", "compact"), topics.get("t").configs());
        admin.createTopics(List.of(new NewTopic("__internal", Optional.empty(), Optional.empty(), Map.of()))).all().join();

        assertEquals(List.of("t"), new ArrayList<>(admin.listTopics().join().keySet()));
        assertEquals(List.of("__internal", "t"),
            new ArrayList<>(admin.listTopics(AdminOptions.defaults().listInternal(true)).join().keySet()));

        TopicDescription d = admin.describeTopics(List.of("t")).value("t").join();
        assertEquals(topics.get("t").id(), d.topicId());
        assertEquals(List.of(0, 1, 2), d.partitions().stream().map(TopicPartitionInfo::partition).toList());
        assertEquals(0, d.partitions().get(0).leader().id());
        assertEquals(broker.port(), d.partitions().get(0).isr().get(0).port());

        admin.deleteTopics(List.of("t")).all().join();
        assertFalse(topics.containsKey("t"));
        assertEquals(Math.min(ApiKeys.DELETE_TOPICS.highestVersion(), 6),
            broker.received(ApiKeys.DELETE_TOPICS).get(0).header().apiVersion());
    }

    @Test
    void shouldMapPerTopicErrorsToTypedExceptions() {
        admin.createTopics(List.of(new NewTopic("t", 2, (short) 1))).all().join();
        AdminResult<String, CreatedTopic> again = admin.createTopics(List.of(new NewTopic("t", 2, (short) 1),
            new NewTopic("u", 1, (short) 1)));
        Throwable t = failure(again.value("t"));
        assertInstanceOf(TopicExistsException.class, t);
        assertEquals("Topic 't' already exists.", t.getMessage());
        again.value("u").join(); // one topic's failure does not fail the other
        assertInstanceOf(TopicExistsException.class, failure(again.all()));

        assertInstanceOf(UnknownTopicOrPartitionException.class, failure(admin.deleteTopics(List.of("nope")).value("nope")));
        assertInstanceOf(UnknownTopicOrPartitionException.class,
            failure(admin.describeTopics(List.of("nope")).value("nope")));
        assertInstanceOf(InvalidPartitionsException.class,
            failure(admin.createPartitions(Map.of("t", NewPartitions.increaseTo(1))).value("t")));
    }

    @Test
    void shouldCreatePartitionsAndValidateOnly() {
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().join();
        admin.createPartitions(Map.of("t", NewPartitions.increaseTo(4))).all().join();
        assertEquals(4, admin.describeTopics(List.of("t")).value("t").join().partitions().size());
        admin.createTopics(List.of(new NewTopic("v", 1, (short) 1)), AdminOptions.defaults().validateOnly(true)).all().join();
        assertFalse(topics.containsKey("v"));
    }

    @Test
    void shouldRetryOnNotController() {
        notControllerReplies.set(2);
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().join();
        assertTrue(topics.containsKey("t"));
        assertEquals(3, broker.received(ApiKeys.CREATE_TOPICS).size());
    }

    @Test
    void shouldDescribeAndAlterConfigs() {
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().join();
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "t");
        admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp("retention.ms", "1000", AlterConfigOp.OpType.SET))))
            .all().join();
        Config c = admin.describeConfigs(List.of(r)).value(r).join();
        assertEquals("1000", c.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("retention.ms").source());
        assertTrue(c.get("segment.bytes").isDefault());
        admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp("retention.ms", null, AlterConfigOp.OpType.DELETE))))
            .all().join();
        assertNull(admin.describeConfigs(List.of(r)).value(r).join().get("retention.ms"));
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, "nope");
        assertInstanceOf(UnknownTopicOrPartitionException.class, failure(admin.describeConfigs(List.of(missing)).value(missing)));
    }

    @Test
    void shouldDescribeCluster() {
        ClusterDescription d = admin.describeCluster().join();
        assertEquals("fake", d.clusterId());
        assertEquals(0, d.controller().id());
        assertEquals(1, d.nodes().size());
    }

    @Test
    void shouldTimeOutWhenTheBrokerNeverAnswers() {
        broker.handler((h, req, conn) -> req instanceof DescribeClusterRequest ? FakeBroker.NO_RESPONSE : handle(h, req, conn));
        Throwable t = failure(admin.describeCluster(AdminOptions.defaults().timeoutMs(300)));
        assertInstanceOf(TimeoutException.class, t);
    }
}
