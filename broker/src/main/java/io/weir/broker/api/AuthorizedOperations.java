package io.weir.broker.api;

/**
 * The authorized-operations bit fields that Metadata, DescribeCluster and DescribeGroups return when a
 * client asks for them: bit {@code n} set means the ACL operation with code {@code n} is allowed
 * (Kafka's {@code AclOperation} codes). Weir has no authorizer, so, as Kafka does without one, every
 * operation that applies to the resource type is allowed. Constants only.
 */
public final class AuthorizedOperations {
    /** Kafka's value for "not requested". */
    public static final int NOT_REQUESTED = Integer.MIN_VALUE;

    // AclOperation codes (a released code never changes)
    private static final int READ = 3;
    private static final int WRITE = 4;
    private static final int CREATE = 5;
    private static final int DELETE = 6;
    private static final int ALTER = 7;
    private static final int DESCRIBE = 8;
    private static final int CLUSTER_ACTION = 9;
    private static final int DESCRIBE_CONFIGS = 10;
    private static final int ALTER_CONFIGS = 11;
    private static final int IDEMPOTENT_WRITE = 12;

    /** Every operation on a topic: read, write, create, delete, alter, describe, describe/alter configs. */
    public static final int TOPIC = bits(READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS);
    /** Every operation on the cluster: create, alter, describe, cluster action, describe/alter configs, idempotent write. */
    public static final int CLUSTER = bits(CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
        IDEMPOTENT_WRITE);
    /** Every operation on a group: read, delete, describe, describe/alter configs. */
    public static final int GROUP = bits(READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS);

    private AuthorizedOperations() {
    }

    private static int bits(int... codes) {
        int b = 0;
        for (int c : codes) {
            b |= 1 << c;
        }
        return b;
    }
}
