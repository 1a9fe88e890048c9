package io.weir.exactlyonce;

import io.weir.broker.testing.BrokerProcess;
import io.weir.common.testing.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Helpers shared by the multi-broker process tests. A broker process listens before the others have
 * seen its registration, so a test creating a topic right after the starts could find fewer brokers
 * than it asked replicas of: {@link #awaitRegistered} waits until each broker's metadata lists them all. Also the
 * bounded wait these tests poll with.
 */
final class Clusters {
    private Clusters() {
    }

    /** Waits (two minutes at most: a hung test) until every broker's Metadata lists all of {@code brokers}. */
    static void awaitRegistered(List<BrokerProcess> brokers) throws InterruptedException {
        for (BrokerProcess b : brokers) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers());
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
            try (Admin admin = Admin.create(p)) {
                waitUntil(() -> nodes(admin) >= brokers.size(),
                    "broker " + b.bootstrapServers() + " lists all " + brokers.size() + " brokers");
            }
        }
    }

    /** Polls until {@code condition} holds; fails after two minutes (a hung test, not a timing assertion). */
    static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        Wait.until(condition, Duration.ofMinutes(2), "until " + what);
    }

    private static int nodes(Admin admin) {
        try {
            return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
        } catch (Exception e) {
            return -1;
        }
    }
}
