package io.weir.protocol;

/**
 * Kafka protocol error codes: the code on the wire, a default message and whether a client may
 * retry the request unchanged. A released code never changes meaning; add new codes at the end.
 *
 * <p>Broker code builds every error response through {@link #forException(Throwable)} (walks the
 * exception's class hierarchy, falling back to {@link #UNKNOWN_SERVER_ERROR}); clients map a code
 * back with {@link #forCode(short)}.
 */
public enum Errors {
    UNKNOWN_SERVER_ERROR(-1, false, "The server hit an unexpected error."),
    NONE(0, false, "No error."),
    OFFSET_OUT_OF_RANGE(1, false, "The requested offset is outside the range held by the server for this partition."),
    CORRUPT_MESSAGE(2, true, "A record failed its CRC check, exceeds a size limit, or is otherwise corrupt."),
    UNKNOWN_TOPIC_OR_PARTITION(3, true, "This server does not host this topic-partition."),
    INVALID_FETCH_SIZE(4, false, "The requested fetch size is invalid."),
    LEADER_NOT_AVAILABLE(5, true, "The partition has no leader at the moment (an election may be in progress)."),
    NOT_LEADER_OR_FOLLOWER(6, true, "This server is not the leader or a follower of this partition."),
    REQUEST_TIMED_OUT(7, true, "The request timed out."),
    BROKER_NOT_AVAILABLE(8, false, "The broker is not available."),
    REPLICA_NOT_AVAILABLE(9, true, "The replica is not available for the requested topic-partition."),
    MESSAGE_TOO_LARGE(10, false, "The request contains a record batch larger than the server accepts."),
    STALE_CONTROLLER_EPOCH(11, false, "The controller epoch in the request is older than the broker's."),
    OFFSET_METADATA_TOO_LARGE(12, false, "The committed offset metadata is too large."),
    NETWORK_EXCEPTION(13, true, "The server disconnected before a response was received."),
    COORDINATOR_LOAD_IN_PROGRESS(14, true, "The coordinator is still loading its state."),
    COORDINATOR_NOT_AVAILABLE(15, true, "The coordinator is not available."),
    NOT_COORDINATOR(16, true, "This is not the correct coordinator."),
    INVALID_TOPIC_EXCEPTION(17, false, "The topic name is invalid or the request targets an internal topic it may not."),
    RECORD_LIST_TOO_LARGE(18, false, "The request's record batches exceed the maximum segment size."),
    NOT_ENOUGH_REPLICAS(19, true, "Fewer in-sync replicas than min.insync.replicas; the write was rejected."),
    NOT_ENOUGH_REPLICAS_AFTER_APPEND(20, true, "The write was appended but too few replicas are in sync to acknowledge it."),
    INVALID_REQUIRED_ACKS(21, false, "The acks value is not one of 0, 1 or -1."),
    ILLEGAL_GENERATION(22, false, "The group generation id is not current."),
    INCONSISTENT_GROUP_PROTOCOL(23, false, "The member's protocol type or protocols do not match the group's."),
    INVALID_GROUP_ID(24, false, "The group id is invalid."),
    UNKNOWN_MEMBER_ID(25, false, "The coordinator does not know this member id."),
    INVALID_SESSION_TIMEOUT(26, false, "The session timeout is outside the range the broker allows."),
    REBALANCE_IN_PROGRESS(27, false, "The group is rebalancing; rejoin it."),
    INVALID_COMMIT_OFFSET_SIZE(28, false, "The committing offset data size is invalid."),
    TOPIC_AUTHORIZATION_FAILED(29, false, "Not authorized to access the topics."),
    GROUP_AUTHORIZATION_FAILED(30, false, "Not authorized to access the group."),
    CLUSTER_AUTHORIZATION_FAILED(31, false, "The cluster action is not authorized."),
    INVALID_TIMESTAMP(32, false, "A record timestamp is outside the acceptable range."),
    UNSUPPORTED_SASL_MECHANISM(33, false, "The broker does not support the SASL mechanism."),
    ILLEGAL_SASL_STATE(34, false, "The request is not valid in the current SASL state."),
    UNSUPPORTED_VERSION(35, false, "The broker does not support this version of the request."),
    TOPIC_ALREADY_EXISTS(36, false, "The topic already exists."),
    INVALID_PARTITIONS(37, false, "The number of partitions is invalid."),
    INVALID_REPLICATION_FACTOR(38, false, "The replication factor is invalid."),
    INVALID_REPLICA_ASSIGNMENT(39, false, "The replica assignment is invalid."),
    INVALID_CONFIG(40, false, "The configuration is invalid."),
    NOT_CONTROLLER(41, true, "This is not the controller."),
    INVALID_REQUEST(42, false, "The request is malformed or not valid for this broker; see the broker log."),
    UNSUPPORTED_FOR_MESSAGE_FORMAT(43, false, "The message format of the partition does not support this request."),
    POLICY_VIOLATION(44, false, "The request breaks a configured policy."),
    OUT_OF_ORDER_SEQUENCE_NUMBER(45, false, "The broker received an out of order sequence number."),
    DUPLICATE_SEQUENCE_NUMBER(46, false, "The broker received a duplicate sequence number."),
    INVALID_PRODUCER_EPOCH(47, false, "The producer epoch is older than the current one (a newer producer exists)."),
    INVALID_TXN_STATE(48, false, "The request is not valid in the transaction's current state."),
    INVALID_PRODUCER_ID_MAPPING(49, false, "The producer id does not match the transactional id."),
    INVALID_TRANSACTION_TIMEOUT(50, false, "The transaction timeout exceeds transaction.max.timeout.ms."),
    CONCURRENT_TRANSACTIONS(51, true, "Another transaction operation on this transactional id is in progress."),
    TRANSACTION_COORDINATOR_FENCED(52, false, "The transaction coordinator was fenced by a newer one."),
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED(53, false, "Not authorized to use this transactional id."),
    SECURITY_DISABLED(54, false, "Security features are disabled."),
    OPERATION_NOT_ATTEMPTED(55, false, "The operation was not attempted because a related one failed."),
    KAFKA_STORAGE_ERROR(56, true, "The disk holding the replica failed."),
    LOG_DIR_NOT_FOUND(57, false, "The log directory does not exist."),
    SASL_AUTHENTICATION_FAILED(58, false, "SASL authentication failed."),
    UNKNOWN_PRODUCER_ID(59, false, "The broker has no state for this producer id."),
    REASSIGNMENT_IN_PROGRESS(60, false, "A partition reassignment is in progress."),
    DELEGATION_TOKEN_AUTH_DISABLED(61, false, "Delegation token authentication is disabled."),
    DELEGATION_TOKEN_NOT_FOUND(62, false, "The delegation token was not found."),
    DELEGATION_TOKEN_OWNER_MISMATCH(63, false, "The principal does not own the delegation token."),
    DELEGATION_TOKEN_REQUEST_NOT_ALLOWED(64, false, "Delegation token requests are not allowed on this channel."),
    DELEGATION_TOKEN_AUTHORIZATION_FAILED(65, false, "The delegation token authorization failed."),
    DELEGATION_TOKEN_EXPIRED(66, false, "The delegation token has expired."),
    INVALID_PRINCIPAL_TYPE(67, false, "The principal type is not supported."),
    NON_EMPTY_GROUP(68, false, "The group is not empty."),
    GROUP_ID_NOT_FOUND(69, false, "The group id does not exist."),
    FETCH_SESSION_ID_NOT_FOUND(70, true, "The fetch session id was not found."),
    INVALID_FETCH_SESSION_EPOCH(71, true, "The fetch session epoch is invalid."),
    LISTENER_NOT_FOUND(72, true, "The leader has no endpoint on the listener the request came in on."),
    TOPIC_DELETION_DISABLED(73, false, "Topic deletion is disabled."),
    FENCED_LEADER_EPOCH(74, true, "The request's leader epoch is older than the broker's."),
    UNKNOWN_LEADER_EPOCH(75, true, "The request's leader epoch is newer than the broker's."),
    UNSUPPORTED_COMPRESSION_TYPE(76, false, "The requesting client does not support the compression type of the data."),
    STALE_BROKER_EPOCH(77, false, "The broker epoch has changed."),
    OFFSET_NOT_AVAILABLE(78, true, "The leader's high watermark has not caught up since it was elected."),
    MEMBER_ID_REQUIRED(79, false, "The group member needs a member id; rejoin with the one given."),
    PREFERRED_LEADER_NOT_AVAILABLE(80, true, "The preferred leader was not available."),
    GROUP_MAX_SIZE_REACHED(81, false, "The group has reached its maximum size."),
    FENCED_INSTANCE_ID(82, false, "Another member with the same group.instance.id fenced this one."),
    ELIGIBLE_LEADERS_NOT_AVAILABLE(83, true, "No eligible leader is available for the election."),
    ELECTION_NOT_NEEDED(84, true, "Leader election is not needed for the partition."),
    NO_REASSIGNMENT_IN_PROGRESS(85, false, "No partition reassignment is in progress."),
    GROUP_SUBSCRIBED_TO_TOPIC(86, false, "The group still subscribes to the topic, so its offsets cannot be deleted."),
    INVALID_RECORD(87, false, "A record failed broker-side validation and was rejected."),
    UNSTABLE_OFFSET_COMMIT(88, true, "Committed offsets are pending a transaction; retry later."),
    THROTTLING_QUOTA_EXCEEDED(89, true, "The throttling quota was exceeded."),
    PRODUCER_FENCED(90, false, "A newer producer with the same transactional id fenced this one."),
    RESOURCE_NOT_FOUND(91, false, "The resource does not exist."),
    DUPLICATE_RESOURCE(92, false, "The request names the same resource twice."),
    UNACCEPTABLE_CREDENTIAL(93, false, "The credential does not meet the requirements."),
    INCONSISTENT_VOTER_SET(94, false, "The voter set is inconsistent with the cluster's."),
    INVALID_UPDATE_VERSION(95, false, "The update version is invalid."),
    FEATURE_UPDATE_FAILED(96, false, "The feature update could not be applied."),
    PRINCIPAL_DESERIALIZATION_FAILURE(97, false, "The forwarded principal could not be deserialized."),
    SNAPSHOT_NOT_FOUND(98, false, "The snapshot was not found."),
    POSITION_OUT_OF_RANGE(99, false, "The position is outside the snapshot."),
    UNKNOWN_TOPIC_ID(100, true, "This server does not host this topic id."),
    DUPLICATE_BROKER_REGISTRATION(101, false, "A broker with this id is already registered."),
    BROKER_ID_NOT_REGISTERED(102, false, "The broker id is not registered."),
    INCONSISTENT_TOPIC_ID(103, true, "The topic id does not match the topic id in the log."),
    INCONSISTENT_CLUSTER_ID(104, false, "The cluster id does not match this cluster's."),
    TRANSACTIONAL_ID_NOT_FOUND(105, false, "The transactional id was not found."),
    FETCH_SESSION_TOPIC_ID_ERROR(106, true, "The fetch session saw inconsistent use of topic ids."),
    INELIGIBLE_REPLICA(107, false, "The replica is not eligible to join the ISR."),
    NEW_LEADER_ELECTED(108, false, "A new leader was elected for the partition."),
    OFFSET_MOVED_TO_TIERED_STORAGE(109, false, "The requested offset has moved to tiered storage."),
    FENCED_MEMBER_EPOCH(110, false, "The member epoch is fenced by the group coordinator."),
    UNRELEASED_INSTANCE_ID(111, false, "The instance id is still used by another member."),
    UNSUPPORTED_ASSIGNOR(112, false, "The assignor is not supported by the group."),
    STALE_MEMBER_EPOCH(113, false, "The member epoch is stale."),
    MISMATCHED_ENDPOINT_TYPE(114, false, "The request was sent to an endpoint of the wrong type."),
    UNSUPPORTED_ENDPOINT_TYPE(115, false, "This endpoint type is not supported."),
    UNKNOWN_CONTROLLER_ID(116, false, "The controller id is unknown."),
    UNKNOWN_SUBSCRIPTION_ID(117, false, "The client telemetry subscription id is unknown."),
    TELEMETRY_TOO_LARGE(118, false, "The client telemetry payload is too large."),
    INVALID_REGISTRATION(119, false, "The controller rejected the broker registration."),
    TRANSACTION_ABORTABLE(120, false, "The transaction hit an error it can recover from by aborting.");

    private static final int MIN_CODE = -1;
    private static final Errors[] BY_CODE;

    static {
        int max = 0;
        for (Errors e : values()) {
            max = Math.max(max, e.code);
        }
        BY_CODE = new Errors[max - MIN_CODE + 1];
        for (Errors e : values()) {
            if (BY_CODE[e.code - MIN_CODE] != null) {
                throw new ExceptionInInitializerError("duplicate error code " + e.code);
            }
            BY_CODE[e.code - MIN_CODE] = e;
        }
    }

    private final short code;
    private final boolean retriable;
    private final String message;

    Errors(int code, boolean retriable, String message) {
        this.code = (short) code;
        this.retriable = retriable;
        this.message = message;
    }

    /** The code sent on the wire. */
    public short code() {
        return code;
    }

    /** True if the same request may succeed when retried (after a metadata refresh or backoff). */
    public boolean isRetriable() {
        return retriable;
    }

    /** The default human-readable message. */
    public String message() {
        return message;
    }

    /** The error for a wire code; codes this version does not know map to {@link #UNKNOWN_SERVER_ERROR}. */
    public static Errors forCode(short code) {
        int i = code - MIN_CODE;
        if (i >= 0 && i < BY_CODE.length && BY_CODE[i] != null) {
            return BY_CODE[i];
        }
        return UNKNOWN_SERVER_ERROR;
    }

    /**
     * The error for an exception, walking its class hierarchy: an {@link ApiException} carries its own
     * code; otherwise the nearest class (the thrown class, then its superclasses) with a known code
     * decides; anything else is {@link #UNKNOWN_SERVER_ERROR}. The cause is not consulted: a wrapper
     * says what failed at its level.
     */
    public static Errors forException(Throwable t) {
        if (t instanceof ApiException api) {
            return api.error();
        }
        for (Class<?> c = t == null ? null : t.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            Errors e = ExceptionCodes.BY_CLASS.get(c);
            if (e != null) {
                return e;
            }
        }
        return UNKNOWN_SERVER_ERROR;
    }

    /** Codes for exceptions of other modules that reach a request handler (common's record and storage errors). */
    private static final class ExceptionCodes {
        static final java.util.Map<Class<?>, Errors> BY_CLASS = java.util.Map.of(
            ProtocolDecodeException.class, INVALID_REQUEST,
            io.weir.common.record.CorruptRecordException.class, CORRUPT_MESSAGE,
            io.weir.common.record.InvalidRecordException.class, INVALID_RECORD,
            io.weir.common.record.RecordTooLargeException.class, MESSAGE_TOO_LARGE,
            io.weir.common.errors.OffsetOutOfRangeException.class, OFFSET_OUT_OF_RANGE,
            io.weir.common.errors.StorageException.class, KAFKA_STORAGE_ERROR);
    }

    /** A new exception carrying this error and its default message. */
    public ApiException exception() {
        return exception(null);
    }

    /** A new exception carrying this error and {@code detail} (or the default message if null). */
    public ApiException exception(String detail) {
        if (this == NONE) {
            throw new IllegalStateException("NONE is not an error");
        }
        return new ApiException(this, detail == null ? message : detail);
    }
}
