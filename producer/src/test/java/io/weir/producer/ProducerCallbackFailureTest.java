package io.weir.producer;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.protocol.client.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Callbacks that run inside the producer's sending loop (on its I/O thread) and close the producer or
 * throw an {@link Error}: every other record still completes, and close() returns.
 */
class ProducerCallbackFailureTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    /**
     * A producer whose broker is then shut down: its connection is lost and reconnects back off far longer
     * than the delivery timeout, so queued batches stay queued and expire inside the sending loop.
     */
    private static Map<String, Object> propsForGoneBroker(String bootstrap) {
        Map<String, Object> p = WeirProducerIntegrationTest.props(bootstrap);
        p.put("linger.ms", "0");
        p.put("request.timeout.ms", "1000");
        p.put("delivery.timeout.ms", "3000");
        p.put("reconnect.backoff.ms", "60000");
        p.put("reconnect.backoff.max.ms", "60000");
        return p;
    }

    private static RuntimeException failedWith(Future<RecordMetadata> f, String what) throws Exception {
        try {
            RecordMetadata md = f.get(30, TimeUnit.SECONDS);
            return fail(what + ": completed without an error at offset " + md.offset());
        } catch (java.util.concurrent.TimeoutException e) {
            return fail(what + ": its future never completed");
        } catch (ExecutionException e) {
            return (RuntimeException) e.getCause();
        }
    }

    private static void closeWithin30s(WeirProducer<?, ?> producer) throws Exception {
        Thread closer = new Thread(producer::close, "closer");
        closer.setDaemon(true);
        closer.start();
        closer.join(30_000);
        assertTrue(!closer.isAlive(), "close() did not return");
    }

    @Test
    void shouldFailRecordsOfOtherPartitionsWhenTheCallbackOfAnExpiredBatchCloses() throws Exception {
        EmbeddedBroker lonely = new EmbeddedBroker().start();
        try {
            KafkaInterop.createTopic(lonely.bootstrapServers(), "gone-close", 2);
            WeirProducer<String, String> producer = new WeirProducer<>(propsForGoneBroker(lonely.bootstrapServers()));
            try {
                producer.send(new ProducerRecord<>("gone-close", 0, null, "warm-up")).get(10, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>("gone-close", 1, null, "warm-up")).get(10, TimeUnit.SECONDS);
                lonely.broker().shutdown();
                CompletableFuture<Exception> expired = new CompletableFuture<>();
                CompletableFuture<Future<RecordMetadata>> queued = new CompletableFuture<>();
                producer.send(new ProducerRecord<>("gone-close", 0, null, "expires"), (md, e) -> {
                    expired.complete(e);
                    // a record for the other partition, queued (its leader backs off) when the producer closes
                    queued.complete(producer.send(new ProducerRecord<>("gone-close", 1, null, "queued")));
                    producer.close(); // on the I/O thread, inside the loop's iteration: closes without waiting
                });
                assertInstanceOf(TimeoutException.class, expired.get(30, TimeUnit.SECONDS));
                RuntimeException e = failedWith(queued.get(5, TimeUnit.SECONDS),
                    "a record queued for another partition when a callback closed the producer");
                assertInstanceOf(IllegalStateException.class, e);
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            } finally {
                closeWithin30s(producer);
            }
        } finally {
            lonely.close();
        }
    }

    @Test
    void shouldFailQueuedRecordsWhenClosedFromAnInterruptedThreadWhileTheLoopRunsACallback() throws Exception {
        EmbeddedBroker lonely = new EmbeddedBroker().start();
        try {
            KafkaInterop.createTopic(lonely.bootstrapServers(), "gone-interrupted", 2);
            WeirProducer<String, String> producer = new WeirProducer<>(propsForGoneBroker(lonely.bootstrapServers()));
            CountDownLatch inCallback = new CountDownLatch(1);
            CountDownLatch releaseCallback = new CountDownLatch(1);
            try {
                producer.send(new ProducerRecord<>("gone-interrupted", 0, null, "warm-up")).get(10, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>("gone-interrupted", 1, null, "warm-up")).get(10, TimeUnit.SECONDS);
                lonely.broker().shutdown();
                // the callback of an expired batch holds the loop's iteration while close() runs
                producer.send(new ProducerRecord<>("gone-interrupted", 0, null, "expires"), (md, e) -> {
                    inCallback.countDown();
                    try {
                        releaseCallback.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(inCallback.await(30, TimeUnit.SECONDS), "the batch did not expire");
                Future<RecordMetadata> queued = producer.send(new ProducerRecord<>("gone-interrupted", 1, null, "q"));
                Thread.currentThread().interrupt(); // close() cannot wait: it returns at once
                try {
                    producer.close();
                } finally {
                    Thread.interrupted();
                }
                releaseCallback.countDown();
                RuntimeException e = failedWith(queued, "a record queued when an interrupted thread closed the producer");
                assertInstanceOf(IllegalStateException.class, e);
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            } finally {
                releaseCallback.countDown();
                closeWithin30s(producer);
            }
        } finally {
            lonely.close();
        }
    }

    @Test
    void shouldCompleteTheRecordAndLaterOnesWhenACallbackThrowsAnError() throws Exception {
        KafkaInterop.createTopic(BROKER.bootstrapServers(), "callback-error", 2);
        Map<String, Object> p = WeirProducerIntegrationTest.props(BROKER.bootstrapServers());
        p.put("linger.ms", "0");
        WeirProducer<String, String> producer = new WeirProducer<>(p);
        try {
            Future<RecordMetadata> throwing = producer.send(new ProducerRecord<>("callback-error", 0, null, "a"),
                (md, e) -> {
                    throw new AssertionError("injected: a callback that throws an Error");
                });
            RecordMetadata md;
            try {
                md = throwing.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                md = fail("the record whose callback threw never completed");
            }
            assertEquals(0, md.offset(), "the record was written; only its callback failed");
            CompletableFuture<Exception> later = new CompletableFuture<>();
            producer.send(new ProducerRecord<>("callback-error", 1, null, "b"), (m, e) -> later.complete(e));
            try {
                assertEquals(null, later.get(30, TimeUnit.SECONDS), "a later record succeeds");
            } catch (java.util.concurrent.TimeoutException e) {
                fail("a record sent after the throwing callback never completed");
            }
        } finally {
            closeWithin30s(producer);
        }
    }

    @Test
    void shouldKeepTheIoThreadWhenTheCallbackOfAnExpiredBatchThrowsAnError() throws Exception {
        EmbeddedBroker lonely = new EmbeddedBroker().start();
        try {
            KafkaInterop.createTopic(lonely.bootstrapServers(), "gone-error", 2);
            WeirProducer<String, String> producer = new WeirProducer<>(propsForGoneBroker(lonely.bootstrapServers()));
            try {
                producer.send(new ProducerRecord<>("gone-error", 0, null, "warm-up")).get(10, TimeUnit.SECONDS);
                lonely.broker().shutdown();
                CompletableFuture<Exception> expired = new CompletableFuture<>();
                producer.send(new ProducerRecord<>("gone-error", 0, null, "expires"), (md, e) -> {
                    expired.complete(e);
                    throw new AssertionError("injected: the callback of an expired batch throws an Error");
                });
                assertInstanceOf(TimeoutException.class, expired.get(30, TimeUnit.SECONDS));
                // the loop that ran the callback still runs: a later record expires in turn
                RuntimeException e = failedWith(producer.send(new ProducerRecord<>("gone-error", 1, null, "later")),
                    "a record sent after a callback threw an Error in the sending loop");
                assertInstanceOf(TimeoutException.class, e);
            } finally {
                closeWithin30s(producer);
            }
        } finally {
            lonely.close();
        }
    }
}
