package io.weir.broker;

import io.weir.broker.api.AlterPartitionHandler;
import io.weir.broker.api.ApiHandlerRegistry;
import io.weir.broker.api.ClusterHandler;
import io.weir.broker.api.ConfigsHandler;
import io.weir.broker.api.ControllerApisHandler;
import io.weir.broker.api.DelayedFetch;
import io.weir.broker.api.DelayedProduce;
import io.weir.broker.api.DeleteRecordsHandler;
import io.weir.broker.api.DescribeProducersHandler;
import io.weir.broker.api.ElectLeadersHandler;
import io.weir.broker.api.PartitionReassignmentsHandler;
import io.weir.broker.api.FetchHandler;
import io.weir.broker.api.FetchSessionCache;
import io.weir.broker.api.GroupApisHandler;
import io.weir.broker.api.ListOffsetsHandler;
import io.weir.broker.api.LogDirsHandler;
import io.weir.broker.api.MetadataHandler;
import io.weir.broker.api.OffsetForLeaderEpochHandler;
import io.weir.broker.api.ProduceHandler;
import io.weir.broker.api.ProducerIdHandler;
import io.weir.broker.api.RequestDispatcher;
import io.weir.broker.api.TopicAdminHandler;
import io.weir.broker.api.TransactionApisHandler;
import io.weir.broker.group.GroupApis;
import io.weir.broker.group.GroupCoordinatorService;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.network.RequestChannel;
import io.weir.broker.network.RequestHandlerPool;
import io.weir.broker.network.SocketServer;
import io.weir.broker.purgatory.DelayedOperationPurgatory;
import io.weir.broker.server.AlterPartitionManager;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.PartitionState;
import io.weir.broker.server.AlterPartitionSender;
import io.weir.broker.server.MetaProperties;
import io.weir.broker.server.ProducerIdManager;
import io.weir.broker.server.ReplicaFetcherManager;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.ReplicationThrottle;
import io.weir.broker.server.TopicConfigs;
import io.weir.broker.server.TopicService;
import io.weir.broker.transaction.LocalTransactionMarkerWriter;
import io.weir.broker.transaction.RoutingTransactionMarkerWriter;
import io.weir.broker.transaction.TransactionCoordinatorClient;
import io.weir.broker.transaction.TransactionCoordinatorService;
import io.weir.broker.transaction.TransactionMarkerChannel;
import io.weir.broker.transaction.TransactionMarkerWriter;
import io.weir.broker.zk.AlterPartitionControl;
import io.weir.broker.zk.BrokerRegistrar;
import io.weir.broker.zk.BrokerLivenessProbe;
import io.weir.broker.zk.ControllerChannelManager;
import io.weir.broker.zk.ControllerRequestApplier;
import io.weir.broker.zk.ZkController;
import io.weir.broker.zk.ZkDynamicBrokerConfigs;
import io.weir.broker.zk.ZkMetadataStore;
import io.weir.broker.zk.ZkProducerIdBlocks;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.log.LogConfig;
import io.weir.log.LogManager;
import io.weir.broker.server.LogDirFailureHandler;
import io.weir.broker.zk.ZkOfflineReplicas;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One Weir broker: the log manager, the hosted partitions, the request handlers and the network
 * front, started and stopped in order. {@link #shutdown()} is the clean stop (SIGTERM): it stops
 * taking requests, then flushes every log, writes checkpoints and the clean-shutdown marker, so the
 * next start skips recovery.
 *
 * <p>Thread-safe: start and stop from one thread.
 */
public final class Broker {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    /** How long a request to another broker may take before it is given up (and retried by its sender). */
    private static final long INTER_BROKER_REQUEST_TIMEOUT_MS = 10_000;

    private final BrokerConfig config;
    private final Time time;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private LogManager logManager;
    private ZkMetadataStore store;
    private BrokerRegistrar registrar;
    private ZkController controller;
    private AlterPartitionManager alterPartitionManager;
    /** The topics as last applied by {@link #applyMetadata} (guarded by the store's lock). */
    private Map<String, TopicMetadata> appliedTopics = Map.of();
    private ReplicaManager replicaManager;
    private DelayedOperationPurgatory<TopicPartition, DelayedFetch> fetchPurgatory;
    /** Consumers' and followers' incremental fetch sessions (KIP-227). */
    private volatile FetchSessionCache fetchSessions;
    private DelayedOperationPurgatory<TopicPartition, DelayedProduce> producePurgatory;
    private SocketServer socketServer;
    private GroupCoordinatorService groupCoordinator;
    private TransactionCoordinatorService transactionCoordinator;
    /** Requests to other brokers (transaction markers to partition leaders). */
    private NetworkClient interBrokerClient;
    /** The controller's connections to the brokers (LeaderAndIsr, UpdateMetadata, StopReplica). */
    private NetworkClient controllerClient;
    private ControllerChannelManager controllerChannel;
    /** The controller's watch on the other brokers' listeners (fast dead-broker detection); null when off. */
    private BrokerLivenessProbe livenessProbe;
    /** This broker's side of the controller's requests. */
    private ControllerRequestApplier controllerRequests;
    /**
     * Whether partition states read from ZooKeeper (the watch path) are applied; tests turn it off to prove
     * the controller's LeaderAndIsr requests alone move leadership. Hosting and deletions still follow the image.
     */
    private volatile boolean applyZkPartitionStates = true;
    private RequestHandlerPool handlerPool;
    /** Takes failed log directories offline and tells the controller (Kafka's LogDirFailureHandler). */
    private LogDirFailureHandler logDirFailureHandler;
    /** Every broker's replicas offline with a failed log directory, for Metadata's offline replicas. */
    private ZkOfflineReplicas.Cache offlineReplicas;
    /** Whether this broker stopped because every log directory failed. */
    private volatile boolean stoppedByLogDirFailure;
    private ScheduledExecutorService scheduler;
    private volatile boolean running;
    /** A test's replacement for how leaders send ISR changes to the controller; null: the AlterPartition manager. */
    private volatile AlterPartitionSender alterPartitionSender;
    /** Called at named points of {@link #startup()}; tests make it throw to check a failed start cleans up. */
    java.util.function.Consumer<String> startupHook = stage -> { };

    public Broker(BrokerConfig config) {
        this(config, Time.SYSTEM);
    }

    public Broker(BrokerConfig config, Time time) {
        this.config = config;
        this.time = time;
    }

    public BrokerConfig config() {
        return config;
    }

    /**
     * Test seam: with false, partition states seen through ZooKeeper's watches are no longer applied, so
     * only the controller's LeaderAndIsr requests change this broker's leaderships and ISRs.
     */
    public void setApplyZkPartitionStates(boolean apply) {
        this.applyZkPartitionStates = apply;
    }

    /** This broker's side of the controller's LeaderAndIsr / UpdateMetadata / StopReplica requests. */
    public ControllerRequestApplier controllerRequests() {
        return controllerRequests;
    }

    /** The controller's channel to the brokers (sends only while this broker is the controller). */
    public ControllerChannelManager controllerChannel() {
        return controllerChannel;
    }

    /**
     * Replaces how partition leaders send ISR changes to the controller (tests), before or after
     * startup; null restores the broker's own {@link AlterPartitionManager}.
     */
    public void setAlterPartitionSender(AlterPartitionSender sender) {
        this.alterPartitionSender = sender;
        ReplicaManager rm = replicaManager;
        if (rm != null) {
            rm.setAlterPartitionSender(sender != null ? sender : alterPartitionManager);
        }
    }

    /**
     * Starts every component in order. If any step fails, whatever had started is stopped again (in
     * reverse order: network, handlers, duties, coordinator, purgatories, logs, metadata) before the
     * failure is rethrown, so a broker that cannot start leaks no thread and keeps no directory lock.
     */
    public synchronized void startup() {
        if (running) {
            return;
        }
        try {
            doStartup();
        } catch (RuntimeException | Error e) {
            log.error("Weir broker {} failed to start; stopping what had started", config.brokerId(), e);
            running = false;
            stopComponents();
            stopped.countDown();
            throw e;
        }
    }

    private void doStartup() {
        List<Path> logDirs = new ArrayList<>();
        for (String d : config.logDirs()) {
            Path dir = Paths.get(d);
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create log directory " + dir, e);
            }
            logDirs.add(dir);
        }
        // the broker's own files (embedded ZooKeeper, __weir_metadata) live in the first directory
        Path logDir = logDirs.get(0);
        for (String unknown : config.unknownKeys()) {
            log.warn("ignoring unknown broker config {}", unknown);
        }
        long zkStartNs = System.nanoTime();
        store = ZkMetadataStore.open(config, logDir);
        long zkOpenedNs = System.nanoTime();
        startupHook.accept("metadata store opened");
        // made before the replicas, which submit ISR changes through it; it sends once started (registered)
        alterPartitionManager = AlterPartitionManager.create(config,
            () -> registrar == null ? -1 : registrar.brokerEpoch(), store, time);
        TopicConfigs topicConfigs = new TopicConfigs(config);
        Map<TopicPartition, LogConfig> perPartition = new HashMap<>();
        for (TopicMetadata t : store.topics().values()) {
            LogConfig lc = topicConfigs.logConfig(t.configs());
            for (int p = 0; p < t.partitionCount(); p++) {
                perPartition.put(new TopicPartition(t.name(), p), lc);
            }
        }
        MetaProperties.checkOrWrite(logDirs, config.brokerId(), store.clusterId());
        logManager = LogManager.open(logDirs, topicConfigs.defaultLogConfig(), perPartition, time,
            config.getBoolean(BrokerConfig.LOG_VERIFY_ON_START));
        log.info("opened {} logs in {} ({})", logManager.allLogs().size(), logDirs.size() == 1 ? logDir : logDirs,
            logManager.wasFreshDirectory() ? "a new, empty log directory"
                : logManager.hadCleanShutdown() ? "clean shutdown: recovery skipped" : "recovered after an unclean stop");
        // a crash may have left snapshots older than the last expiration: producers idle past it are
        // dropped before the first request can see them, not one check interval later
        logManager.doProducerIdExpiration(time.milliseconds(), config.getLong(BrokerConfig.PRODUCER_ID_EXPIRATION_MS));
        replicaManager = new ReplicaManager(config.brokerId(), logManager, topicConfigs, time);
        replicaManager.setAlterPartitionSender(alterPartitionSender != null ? alterPartitionSender : alterPartitionManager);
        ZkMetadataStore metadata = store;
        replicaManager.setFetcherManager(new ReplicaFetcherManager(config.brokerId(),
            () -> registrar == null ? -1 : registrar.brokerEpoch(), replicaManager,
            new ReplicaFetcherManager.Settings(config.getInt(BrokerConfig.REPLICA_FETCH_MAX_BYTES),
                config.getInt(BrokerConfig.REPLICA_FETCH_RESPONSE_MAX_BYTES),
                config.getInt(BrokerConfig.REPLICA_FETCH_WAIT_MAX_MS), config.getInt(BrokerConfig.REPLICA_FETCH_MIN_BYTES),
                config.getInt(BrokerConfig.REPLICA_FETCH_BACKOFF_MS), config.getInt(BrokerConfig.REPLICA_SOCKET_TIMEOUT_MS),
                config.getInt(BrokerConfig.NUM_REPLICA_FETCHERS)),
            time, id -> liveBroker(metadata.image(), id)));
        replicaManager.setBrokerEpochs(id -> {
            BrokerRegistration b = liveBroker(metadata.image(), id);
            return b == null ? -1 : b.epoch();
        });
        fetchPurgatory = DelayedOperationPurgatory.create("fetch", time);
        producePurgatory = DelayedOperationPurgatory.create("produce", time);
        replicaManager.setAppendListener(tp -> {
            producePurgatory.checkAndComplete(tp);
            fetchPurgatory.checkAndComplete(tp);
        });
        replicaManager.setHighWatermarkListener(tp -> {
            producePurgatory.checkAndComplete(tp);
            fetchPurgatory.checkAndComplete(tp);
        });
        applyMetadata(store.image());
        store.setListener(this::applyMetadata);
        controller = new ZkController(store, config.brokerId(), ZkController.ElectionSettings.of(config));
        TopicService topics = new TopicService(config, store, replicaManager, topicConfigs, controller);
        BrokerConfig.Endpoint listener = config.listeners().get(0);
        BrokerConfig.Endpoint advertised = config.advertisedListeners().get(0);
        RequestChannel channel = new RequestChannel(config.getInt(BrokerConfig.QUEUED_MAX_REQUESTS));
        try {
            socketServer = new SocketServer(listener.host(), listener.port(), config.socketSettings(), channel, time);
            socketServer.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listener.host() + ":" + listener.port(), e);
        }
        startupHook.accept("network started");
        if (advertised.port() == 0) {
            advertised = new BrokerConfig.Endpoint(advertised.listenerName(), advertised.host(), socketServer.boundPort());
        }
        // registered once the port is known and the log dir's lock is held (a stale registration of an
        // earlier run of this broker can then be proven dead)
        registrar = new BrokerRegistrar(store, config.brokerId(), advertised.host(), advertised.port(),
            config.getString(BrokerConfig.BROKER_RACK),
            List.of(advertised.listenerName() + "://" + advertised.host() + ":" + advertised.port()));
        long registerNs = System.nanoTime();
        registrar.register();
        controllerClient = new NetworkClient(NetworkClient.Settings.defaults(
            List.of(new Node(-1, advertised.host(), advertised.port())), "controller-" + config.brokerId()), time);
        controllerChannel = new ControllerChannelManager(controllerClient, time, INTER_BROKER_REQUEST_TIMEOUT_MS);
        controller.setChannel(controllerChannel);
        long livenessTimeoutMs = config.getLong(BrokerConfig.CONTROLLER_BROKER_LIVENESS_TIMEOUT_MS);
        if (livenessTimeoutMs > 0) {
            livenessProbe = new BrokerLivenessProbe(config.brokerId(), livenessTimeoutMs, time, controller::fenceBroker);
            livenessProbe.start();
            controller.setLivenessProbe(livenessProbe);
        }
        BrokerRegistrar registered = registrar;
        controllerRequests = new ControllerRequestApplier(config.brokerId(), store, replicaManager,
            registered::brokerEpoch);
        controller.start();
        alterPartitionManager.start();
        ZkOfflineReplicas offlineZk = new ZkOfflineReplicas(store.client());
        logDirFailureHandler = new LogDirFailureHandler(replicaManager, registered::brokerEpoch,
            (epoch, dirs, partitions) -> offlineZk.report(config.brokerId(), epoch, dirs, partitions),
            this::stopAfterAllLogDirsFailed).start(config.brokerId());
        offlineReplicas = new ZkOfflineReplicas.Cache(offlineZk, config.brokerId()).start();
        ZkOfflineReplicas.Cache offlineCache = offlineReplicas;
        log.debug("ZooKeeper: metadata opened in {} ms, registered and controller known in {} ms",
            (zkOpenedNs - zkStartNs) / 1_000_000, (System.nanoTime() - registerNs) / 1_000_000);
        groupCoordinator = new GroupCoordinatorService(config, replicaManager, topics, store, time);
        groupCoordinator.startup();
        ZkProducerIdBlocks blocks = new ZkProducerIdBlocks(store.client(), config.brokerId());
        ProducerIdManager producerIds = new ProducerIdManager(size -> blocks.reserve(size).firstId());
        TransactionMarkerWriter markerWriter = new LocalTransactionMarkerWriter(replicaManager, groupCoordinator, store,
            time);
        interBrokerClient = new NetworkClient(NetworkClient.Settings.defaults(
            List.of(new Node(-1, advertised.host(), advertised.port())), "broker-" + config.brokerId()), time);
        // the coordinator's markers go to each partition's leader; WriteTxnMarkers (below) writes only here
        TransactionMarkerWriter routedMarkers = new RoutingTransactionMarkerWriter(config.brokerId(), store,
            markerWriter, new TransactionMarkerChannel(interBrokerClient, time, INTER_BROKER_REQUEST_TIMEOUT_MS));
        transactionCoordinator = new TransactionCoordinatorService(config, replicaManager, topics, store, time,
            producerIds::nextProducerId, routedMarkers,
            new TransactionCoordinatorClient(interBrokerClient, time, INTER_BROKER_REQUEST_TIMEOUT_MS));
        transactionCoordinator.startup();
        RequestDispatcher handler = new RequestDispatcher(ApiHandlerRegistry.builder()
            .register(new ProduceHandler(replicaManager, producePurgatory, transactionCoordinator,
                config.getShort(BrokerConfig.TRANSACTION_VERSION)))
            .register(new FetchHandler(store, replicaManager, fetchSessions = new FetchSessionCache(
                config.getInt(BrokerConfig.MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS),
                FetchSessionCache.DEFAULT_EVICTION_IDLE_MS, time), fetchPurgatory))
            .register(new ListOffsetsHandler(replicaManager))
            .register(new DescribeProducersHandler(replicaManager))
            .register(new MetadataHandler(config, store, replicaManager, topics, advertised)
                .withDirOfflineReplicas(tp -> offlineCache.offlineReplicas(tp, metadata.image().brokers())))
            .register(new TopicAdminHandler(config, store, topics))
            .register(new ConfigsHandler(config, store, topics, new ZkDynamicBrokerConfigs(store, config.brokerId(),
                dynamic -> {
                    replicaManager.replicationThrottle().setRate(throttleRate(dynamic, "follower.replication.throttled.rate"));
                    replicaManager.leaderReplicationThrottle().setRate(throttleRate(dynamic,
                        "leader.replication.throttled.rate"));
                    long logDirRate = throttleRate(dynamic, "replica.alter.log.dirs.io.max.bytes.per.second");
                    replicaManager.logDirMover().setThrottle(logDirRate > 0 ? logDirRate : Long.MAX_VALUE);
                })))
            .register(new ClusterHandler(config, store, advertised))
            .register(new DeleteRecordsHandler(replicaManager))
            .register(new LogDirsHandler(replicaManager))
            .register(new ElectLeadersHandler(store, replicaManager, controller))
            .register(new PartitionReassignmentsHandler(controller))
            .register(new OffsetForLeaderEpochHandler(replicaManager))
            .register(new AlterPartitionHandler(new AlterPartitionControl(store, controller)))
            .register(new ControllerApisHandler(controllerRequests))
            .register(new ProducerIdHandler(producerIds, transactionCoordinator))
            .register(new GroupApisHandler(new GroupApis(groupCoordinator, transactionCoordinator::locateCoordinator,
                config.brokerId(), advertised.host(), advertised.port())))
            .register(new TransactionApisHandler(transactionCoordinator, groupCoordinator, markerWriter, store,
                config.getShort(BrokerConfig.TRANSACTION_VERSION)))
            .build());
        running = true;
        handlerPool = new RequestHandlerPool(channel, handler::handle, config.getInt(BrokerConfig.NUM_IO_THREADS),
            "weir-request-handler-");
        scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "weir-log-scheduler");
            t.setDaemon(true);
            return t;
        });
        long retentionCheckMs = config.getLong(BrokerConfig.LOG_RETENTION_CHECK_INTERVAL_MS);
        scheduleDuty("retention", retentionCheckMs, () -> logManager.doRetention(time.milliseconds()));
        long flushCheckMs = Math.min(config.getLong(BrokerConfig.LOG_FLUSH_SCHEDULER_INTERVAL_MS),
            Math.max(100, Math.min(config.logFlushIntervalMs(), 60_000)));
        scheduleDuty("flush", flushCheckMs, () -> logManager.doFlush(time.milliseconds()));
        scheduleDuty("checkpoint", 60_000, logManager::doCheckpoint);
        long producerIdExpirationMs = config.getLong(BrokerConfig.PRODUCER_ID_EXPIRATION_MS);
        scheduleDuty("producer id expiration", config.getLong(BrokerConfig.PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS),
            () -> logManager.doProducerIdExpiration(time.milliseconds(), producerIdExpirationMs));
        long scrubRate = config.getLong(BrokerConfig.LOG_SCRUBBER_BYTES_PER_SECOND);
        if (scrubRate > 0) {
            scheduleDuty("scrubber", 1_000, () -> logManager.doScrub(time.milliseconds(), scrubRate));
        }
        scheduleDuty("high-watermark checkpoint", config.getLong(BrokerConfig.REPLICA_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS),
            replicaManager::checkpointHighWatermarks);
        long lagTimeMaxMs = config.getLong(BrokerConfig.REPLICA_LAG_TIME_MAX_MS);
        scheduleDuty("ISR check", Math.max(1, lagTimeMaxMs / 2),
            () -> replicaManager.doIsrCheck(time.milliseconds(), lagTimeMaxMs));
        scheduleDuty("request handler watchdog", 1_000, () -> handlerPool.checkThreads(time.milliseconds()));
        if (config.getBoolean(BrokerConfig.LOG_CLEANER_ENABLE)) {
            scheduleDuty("cleaner", 15_000, () -> logManager.doCleaning(time.milliseconds()));
        }
        log.info("Weir broker {} started, listening on {}:{} (cluster {})", config.brokerId(), listener.host(),
            socketServer.boundPort(), store.clusterId());
    }

    /**
     * Runs a background duty every {@code periodMs} on the broker's scheduler thread. A clean stop lets
     * a running duty finish (it is never interrupted: an interrupt during a write or fsync would close
     * the segment's file channel under it).
     */
    void scheduleDuty(String name, long periodMs, java.util.function.LongSupplier work) {
        scheduler.scheduleWithFixedDelay(() -> duty(name, work), periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    private void duty(String name, java.util.function.LongSupplier work) {
        try {
            work.getAsLong();
        } catch (RuntimeException e) {
            log.error("{} failed", name, e);
        }
    }

    /**
     * Request-handler and network threads the watchdogs replaced since start (each had died of an
     * error its loop could not absorb); 0 in a healthy broker.
     */
    public long threadReplacements() {
        return handlerPool.threadReplacements() + socketServer.threadReplacements();
    }

    /** The port the first listener bound (useful with port 0). */
    public int boundPort() {
        return socketServer.boundPort();
    }

    public ReplicaManager replicaManager() {
        return replicaManager;
    }

    /** The fetch sessions this broker keeps for consumers and followers (null before startup; tests and diagnostics). */
    public FetchSessionCache fetchSessions() {
        return fetchSessions;
    }

    public TransactionCoordinatorService transactionCoordinator() {
        return transactionCoordinator;
    }

    public GroupCoordinatorService groupCoordinator() {
        return groupCoordinator;
    }

    public MetadataStore metadataStore() {
        return store;
    }

    /** This broker's side of the controller election (active when it is the controller). */
    public ZkController controller() {
        return controller;
    }

    /** How this broker's partition leaders ask the controller to change an ISR (AlterPartition). */
    public AlterPartitionSender alterPartitionSender() {
        return alterPartitionManager;
    }

    /**
     * Clean stop: no new requests, then flush, checkpoints and the clean-shutdown marker. Each stage
     * waits for the previous one; a stage that fails is logged and the rest still run, so the
     * directory lock is always released and {@link #awaitShutdown()} always returns.
     */
    public synchronized void shutdown() {
        if (!running) {
            return;
        }
        log.info("Weir broker {} shutting down", config.brokerId());
        controlledShutdown();
        running = false;
        boolean clean;
        try {
            clean = stopComponents();
        } finally {
            stopped.countDown();
        }
        if (clean) {
            log.info("Weir broker {} shut down cleanly", config.brokerId());
        } else {
            log.error("Weir broker {} shut down with errors (see above); the next start recovers its logs",
                config.brokerId());
        }
    }

    /**
     * Every log directory failed: nothing can be served, so the broker stops (Kafka halts the process:
     * "Shutdown broker because all log dirs ... have failed") — no controlled shutdown (no replica here can
     * lead), no clean-shutdown marker (the next start, with the directories fixed, recovers them). Runs on its
     * own thread, as it is called from the failure handler's, which the stop closes.
     */
    private void stopAfterAllLogDirsFailed() {
        Thread t = new Thread(() -> {
            synchronized (this) {
                if (!running) {
                    return;
                }
                stoppedByLogDirFailure = true;
                running = false;
                try {
                    stopComponents();
                } finally {
                    stopped.countDown();
                }
                log.error("Weir broker {} stopped: every log directory failed", config.brokerId());
            }
        }, "weir-log-dir-failure-shutdown");
        t.start();
    }

    /** Whether the broker stopped because every log directory failed ({@link #awaitShutdown} then returns). */
    public boolean stoppedByLogDirFailure() {
        return stoppedByLogDirFailure;
    }

    /** Whether the broker is running (started and not stopped). */
    public boolean isRunning() {
        return running;
    }

    /**
     * With {@code controlled.shutdown.enable} and other brokers live, asks the controller to move this
     * broker's leaderships away while it still serves requests (at most
     * {@code controlled.shutdown.max.retries} attempts of {@code controlled.shutdown.retry.backoff.ms});
     * if they do not all move it stops anyway. A broker alone does not wait.
     */
    private void controlledShutdown() {
        if (controller == null || !config.getBoolean(BrokerConfig.CONTROLLED_SHUTDOWN_ENABLE)) {
            return;
        }
        try {
            controller.controlledShutdown(config.getInt(BrokerConfig.CONTROLLED_SHUTDOWN_MAX_RETRIES),
                config.getLong(BrokerConfig.CONTROLLED_SHUTDOWN_RETRY_BACKOFF_MS));
        } catch (RuntimeException e) {
            log.error("the controlled shutdown of broker {} failed; stopping anyway", config.brokerId(), e);
        }
    }

    /**
     * Applies a new metadata image to the hosted partitions: this broker hosts the partitions whose
     * replicas include it (all of them on a single broker), stops hosting topics that were deleted and
     * replicas reassigned to other brokers (deleting their logs),
     * and applies changed topic configs. It is how topic changes of the controller — this broker's
     * or another's — reach the logs. Runs under the store's lock, so images apply in order and a
     * controller write's own change is applied before the write returns.
     */
    private void applyMetadata(ZkMetadataStore.Image image) {
        ReplicaManager rm = replicaManager;
        if (rm == null) {
            return;
        }
        Map<String, TopicMetadata> hosted = new HashMap<>();
        Map<String, Integer> hostedCounts = new HashMap<>();
        for (io.weir.broker.server.Partition p : rm.partitions()) {
            TopicPartition tp = p.topicPartition();
            hostedCounts.merge(tp.topic(), tp.partition() + 1, Math::max);
            hosted.putIfAbsent(tp.topic(), new TopicMetadata(tp.topic(), p.topicId(), 0, (short) 1, Map.of()));
        }
        for (Map.Entry<String, TopicMetadata> e : hosted.entrySet()) {
            TopicMetadata now = image.topics().get(e.getKey());
            if (now == null || !now.topicId().equals(e.getValue().topicId())) {
                rm.deleteTopic(e.getValue().withPartitionCount(hostedCounts.get(e.getKey())));
                log.info("stopped hosting deleted topic {}", e.getKey());
            }
        }
        int me = config.brokerId();
        for (TopicMetadata t : image.topics().values()) {
            Map<Integer, List<Integer>> assignment = image.assignments().getOrDefault(t.name(), Map.of());
            for (int p = 0; p < t.partitionCount(); p++) {
                List<Integer> replicas = assignment.getOrDefault(p, List.of());
                TopicPartition tp = new TopicPartition(t.name(), p);
                PartitionState state = image.states().get(tp);
                if (replicas.isEmpty() || replicas.contains(me)) {
                    // hosts it if new, then applies the state (a state already applied is skipped)
                    rm.hostPartition(t, p, replicas, applyZkPartitionStates ? state : null);
                } else if (rm.partition(tp) != null || logManager.getLog(tp) != null) {
                    // reassigned away from this broker (while it ran, or while it was down: a stray log):
                    // stop its replica and delete its log
                    rm.removeReplica(tp);
                    log.info("stopped hosting {} and deleted its log: its replicas are now {}", tp, replicas);
                }
            }
            TopicMetadata before = appliedTopics.get(t.name());
            if (before != null && before.topicId().equals(t.topicId()) && !before.configs().equals(t.configs())) {
                rm.updateTopicConfig(t);
            }
        }
        rm.replicationThrottle().setThrottledReplicas(throttledReplicas(image, "follower.replication.throttled.replicas"));
        rm.leaderReplicationThrottle().setThrottledReplicas(throttledReplicas(image,
            "leader.replication.throttled.replicas"));
        rm.refreshFetchers(); // a leader's broker may have registered, or come back on another port
        appliedTopics = image.topics();
    }

    /** Every topic's value of the throttled-replicas config {@code key} (topics without one left out). */
    private static Map<String, String> throttledReplicas(ZkMetadataStore.Image image, String key) {
        Map<String, String> out = new HashMap<>();
        for (TopicMetadata t : image.topics().values()) {
            String v = t.configs().get(key);
            if (v != null && !v.isBlank()) {
                out.put(t.name(), v);
            }
        }
        return out;
    }

    /** A replication throttle rate ({@code key}) of the dynamic broker configs, or none. */
    private static long throttleRate(Map<String, String> dynamic, String key) {
        try {
            return Long.parseLong(dynamic.getOrDefault(key, "-1").trim());
        } catch (NumberFormatException e) {
            log.warn("ignoring the unreadable {} {}", key, dynamic.get(key));
            return ReplicationThrottle.UNLIMITED;
        }
    }

    /** The live broker {@code id} of the image, or null. */
    private static BrokerRegistration liveBroker(ZkMetadataStore.Image image, int id) {
        for (BrokerRegistration b : image.brokers()) {
            if (b.id() == id) {
                return b;
            }
        }
        return null;
    }

    /** Stops whatever has started, in reverse order of start; returns whether every stage succeeded. */
    private boolean stopComponents() {
        if (store != null) {
            store.setListener(null);
        }
        boolean ok = true;
        // first: a controller that fences this broker once its listener closes must not see it register again
        ok &= stage("registration", () -> registrar.close(), registrar);
        ok &= stage("network", () -> socketServer.shutdown(), socketServer);
        ok &= stage("request handlers", () -> handlerPool.shutdown(10_000), handlerPool);
        ok &= stage("background duties", this::stopScheduler, scheduler);
        ok &= stage("log dir failure handler", () -> logDirFailureHandler.close(), logDirFailureHandler);
        ok &= stage("offline replicas cache", () -> offlineReplicas.close(), offlineReplicas);
        // fetchers stop before the logs close; the high watermarks are checkpointed for the next start
        ok &= stage("replication", () -> replicaManager.shutdown(), replicaManager);
        ok &= stage("transaction coordinator", () -> transactionCoordinator.shutdown(), transactionCoordinator);
        ok &= stage("inter-broker client", () -> interBrokerClient.close(), interBrokerClient);
        ok &= stage("group coordinator", () -> groupCoordinator.shutdown(), groupCoordinator);
        ok &= stage("fetch purgatory", () -> fetchPurgatory.close(), fetchPurgatory);
        ok &= stage("produce purgatory", () -> producePurgatory.close(), producePurgatory);
        ok &= stage("logs", () -> logManager.close(), logManager);
        ok &= stage("alter partition manager", () -> alterPartitionManager.close(), alterPartitionManager);
        ok &= stage("controller", () -> controller.close(), controller);
        ok &= stage("controller liveness probe", () -> livenessProbe.close(), livenessProbe);
        ok &= stage("controller channel", () -> controllerChannel.close(), controllerChannel);
        ok &= stage("controller client", () -> controllerClient.close(), controllerClient);
        // closing the store ends the ZooKeeper session (the registration and /controller go at once),
        // then stops the embedded ZooKeeper if there is one
        ok &= stage("metadata store", () -> store.close(), store);
        socketServer = null;
        handlerPool = null;
        logDirFailureHandler = null;
        offlineReplicas = null;
        scheduler = null;
        transactionCoordinator = null;
        interBrokerClient = null;
        groupCoordinator = null;
        fetchPurgatory = null;
        producePurgatory = null;
        logManager = null;
        alterPartitionManager = null;
        controller = null;
        controllerChannel = null;
        livenessProbe = null;
        controllerClient = null;
        registrar = null;
        store = null;
        return ok;
    }

    private boolean stage(String name, Runnable stop, Object component) {
        if (component == null) {
            return true; // never started
        }
        try {
            stop.run();
            return true;
        } catch (RuntimeException | Error e) {
            log.error("stopping the {} failed", name, e);
            return false;
        }
    }

    /** Lets a running duty finish (no interrupt), waiting up to a minute; later runs are cancelled. */
    private void stopScheduler() {
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(60, TimeUnit.SECONDS)) {
                log.warn("a background duty is still running after 60 s; stopping without waiting for it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }
}
