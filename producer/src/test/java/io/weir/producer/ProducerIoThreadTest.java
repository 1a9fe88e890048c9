package io.weir.producer;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.testing.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The producer runs its sending loop on its network client's I/O thread: one I/O thread per producer,
 * on which callbacks run, and from which a callback may send again, but not wait for that same thread.
 */
class ProducerIoThreadTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    private static Map<String, Object> props(String clientId) {
        Map<String, Object> p = WeirProducerIntegrationTest.props(BROKER.bootstrapServers());
        p.put("client.id", clientId);
        p.put("linger.ms", "0");
        return p;
    }

    /** Names of the live threads that carry {@code clientId}. */
    private static Set<String> threadsOf(String clientId) {
        Set<String> names = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().contains(clientId)) {
                names.add(t.getName());
            }
        }
        return names;
    }

    @Test
    void shouldRunSendsAndCallbacksOnItsOneIoThread() throws Exception {
        KafkaInterop.createTopic(BROKER.bootstrapServers(), "one-thread", 2);
        String id = "one-io-thread";
        try (WeirProducer<String, String> producer = new WeirProducer<>(props(id))) {
            CompletableFuture<String> callbackThread = new CompletableFuture<>();
            producer.send(new ProducerRecord<>("one-thread", 0, null, "v"),
                (md, e) -> callbackThread.complete(Thread.currentThread().getName())).get(30, TimeUnit.SECONDS);
            assertEquals(Set.of("weir-network-" + id), threadsOf(id), "one I/O thread per producer");
            assertEquals("weir-network-" + id, callbackThread.get(30, TimeUnit.SECONDS));
            // counted right after the batch completes (and its callbacks ran)
            Wait.until(() -> Double.valueOf(1.0).equals(producer.metrics().get("record-send-total")),
                Duration.ofSeconds(30), () -> "record-send-total 1.0: " + producer.metrics().get("record-send-total"));
            assertEquals(1.0, producer.metrics().get("record-send-total"));
        }
    }

    @Test
    void shouldSendFromACallbackOnTheIoThread() throws Exception {
        KafkaInterop.createTopic(BROKER.bootstrapServers(), "chained", 2);
        String id = "chained-sends";
        int chainLength = 20;
        List<Long> offsets = new ArrayList<>();
        List<String> callbackThreads = new ArrayList<>();
        CompletableFuture<Void> chainDone = new CompletableFuture<>();
        try (WeirProducer<String, String> producer = new WeirProducer<>(props(id))) {
            // each callback sends the next record (to the other partition: a new batch, which only the I/O
            // thread that runs the callback can send) and the chain ends after chainLength records
            Callback[] next = new Callback[1];
            next[0] = (md, e) -> {
                if (e != null) {
                    chainDone.completeExceptionally(e);
                    return;
                }
                offsets.add(md.offset());
                callbackThreads.add(Thread.currentThread().getName());
                if (offsets.size() == chainLength) {
                    chainDone.complete(null);
                } else {
                    producer.send(new ProducerRecord<>("chained", offsets.size() % 2, null, "v" + offsets.size()),
                        next[0]);
                }
            };
            producer.send(new ProducerRecord<>("chained", 0, null, "v0"), next[0]);
            chainDone.get(60, TimeUnit.SECONDS);
        }
        for (int i = 0; i < chainLength; i++) {
            assertEquals(i / 2, offsets.get(i), "record " + i);
        }
        assertEquals(Set.of("weir-network-" + id), new TreeSet<>(callbackThreads));
    }

    @Test
    void shouldRefuseFlushAndCloseWithoutWaitingWhenCalledFromACallback() throws Exception {
        KafkaInterop.createTopic(BROKER.bootstrapServers(), "from-callback", 1);
        String id = "flush-close-in-callback";
        WeirProducer<String, String> producer = new WeirProducer<>(props(id));
        try {
            CompletableFuture<Throwable> flushOutcome = new CompletableFuture<>();
            CompletableFuture<Void> closed = new CompletableFuture<>();
            producer.send(new ProducerRecord<>("from-callback", "v"), (md, e) -> {
                try {
                    producer.flush();
                    flushOutcome.complete(null);
                } catch (RuntimeException flushError) {
                    flushOutcome.complete(flushError);
                }
                producer.close(); // cannot wait for the thread it runs on: closes without waiting
                closed.complete(null);
            });
            // a flush here would wait for the callback's own thread: it throws instead of hanging
            assertInstanceOf(IllegalStateException.class, flushOutcome.get(30, TimeUnit.SECONDS));
            closed.get(30, TimeUnit.SECONDS);
            assertThrows(IllegalStateException.class, () -> producer.send(new ProducerRecord<>("from-callback", "w")));
        } finally {
            producer.close();
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().contains(id)) {
                t.join(30_000);
            }
        }
        assertTrue(threadsOf(id).isEmpty(), "the I/O thread ended after the close from the callback: " + threadsOf(id));
    }
}
