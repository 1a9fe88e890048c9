package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

import java.util.function.Function;

/**
 * Maps a wire error code to the exception an Admin user sees: a specific type for the errors
 * admin calls commonly get, {@link ApiException} (with its {@link Errors}) for the rest. The broker's
 * error message wins over the default one.
 */
public final class AdminErrors {
    private AdminErrors() {
    }

    public static ApiException exception(Errors error, String brokerMessage) {
        String msg = brokerMessage == null || brokerMessage.isEmpty() ? error.message() : brokerMessage;
        Function<String, ApiException> f = switch (error) {
            case TOPIC_ALREADY_EXISTS -> TopicExistsException::new;
            case UNKNOWN_TOPIC_OR_PARTITION -> UnknownTopicOrPartitionException::new;
            case INVALID_PARTITIONS -> InvalidPartitionsException::new;
            case INVALID_REPLICATION_FACTOR -> InvalidReplicationFactorException::new;
            case INVALID_REPLICA_ASSIGNMENT -> InvalidReplicaAssignmentException::new;
            case INVALID_CONFIG -> InvalidConfigurationException::new;
            case INVALID_TOPIC_EXCEPTION -> InvalidTopicException::new;
            case POLICY_VIOLATION -> PolicyViolationException::new;
            case INVALID_REQUEST -> InvalidRequestException::new;
            case TOPIC_DELETION_DISABLED -> TopicDeletionDisabledException::new;
            case GROUP_ID_NOT_FOUND -> GroupIdNotFoundException::new;
            case NON_EMPTY_GROUP -> GroupNotEmptyException::new;
            case GROUP_SUBSCRIBED_TO_TOPIC -> GroupSubscribedToTopicException::new;
            case INVALID_GROUP_ID -> InvalidGroupIdException::new;
            case NONE -> throw new IllegalArgumentException("NONE is not an error");
            default -> m -> new ApiException(error, m);
        };
        return f.apply(msg);
    }

    public static ApiException exception(short code, String brokerMessage) {
        return exception(Errors.forCode(code), brokerMessage);
    }
}
