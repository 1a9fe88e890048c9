package io.weir.broker.testing;

import io.weir.common.testing.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * Waits for a transaction's markers, as tests that read what a transaction wrote need to: the producer's
 * commitTransaction/abortTransaction return once PrepareCommit/PrepareAbort is written, and the markers
 * (the one in {@code __consumer_offsets} included) follow. Until the group's marker is written, an
 * OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT for the partition, which the admin client
 * (unlike a consumer) does not retry: {@code Admin.listConsumerGroupOffsets} just leaves it out.
 * All methods static.
 */
public final class TransactionWaits {
    private static final Set<String> ENDED = Set.of(TransactionState.COMPLETE_COMMIT.toString(),
        TransactionState.COMPLETE_ABORT.toString());

    private TransactionWaits() {
    }

    /** Waits (up to 60 s) until the id's last transaction is CompleteCommit or CompleteAbort. */
    public static void awaitEnded(Admin admin, String transactionalId) throws InterruptedException {
        awaitEnded(transactionalId, () -> admin.describeTransactions(List.of(transactionalId)).all().get()
            .get(transactionalId).state().toString());
    }

    /**
     * {@link #awaitEnded(Admin, String)} for any client: {@code state} reads the id's transaction state by Kafka's
     * name for it ({@code CompleteCommit}, as DescribeTransactions answers); a read that throws is read again.
     */
    public static void awaitEnded(String transactionalId, Callable<String> state) throws InterruptedException {
        String[] seen = {""};
        Wait.until(() -> {
            try {
                seen[0] = state.call();
                return ENDED.contains(seen[0]);
            } catch (Exception e) {
                seen[0] = e.toString();
                return false;
            }
        }, Duration.ofSeconds(60),
            () -> "the transaction of " + transactionalId + " to complete; its state: " + seen[0]);
    }
}
