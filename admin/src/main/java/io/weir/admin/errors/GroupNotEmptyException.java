package io.weir.admin.errors;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;

/**
 * The group has active members, so the operation (delete the group, alter its offsets) is refused.
 * The broker says so with {@link Errors#NON_EMPTY_GROUP}, or, for an admin offset commit into a
 * live group, with UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION / REBALANCE_IN_PROGRESS; {@link #error()}
 * keeps the code the broker sent.
 */
public final class GroupNotEmptyException extends ApiException {
    private static final long serialVersionUID = 1L;

    public GroupNotEmptyException(String message) {
        super(Errors.NON_EMPTY_GROUP, message);
    }

    public GroupNotEmptyException(Errors brokerError, String message) {
        super(brokerError, message);
    }
}
