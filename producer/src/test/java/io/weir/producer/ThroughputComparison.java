package io.weir.producer;

import io.weir.broker.testing.EmbeddedBroker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.HashMap;
import java.util.Map;

/**
 * Not a test (timings are never asserted): records/s of Weir's producer and Apache kafka-clients'
 * producer against the same in-JVM Weir broker, same settings, alternating runs. Run by hand:
 * {@code java -cp <test classpath> io.weir.producer.ThroughputComparison [records] [codec]}.
 */
public final class ThroughputComparison {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        String codec = args.length > 1 ? args[1] : "none";
        byte[] value = new byte[100];
        try (EmbeddedBroker broker = new EmbeddedBroker().start()) {
            KafkaInterop.createTopic(broker.bootstrapServers(), "bench", 4);
            Map<String, Object> p = new HashMap<>();
            p.put("bootstrap.servers", broker.bootstrapServers());
            p.put("compression.type", codec);
            p.put("linger.ms", "5");
            p.put("batch.size", "65536");
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                try (WeirProducer<byte[], byte[]> w = new WeirProducer<>(p, new Serializers.ByteArraySerializer(),
                    new Serializers.ByteArraySerializer())) {
                    for (int i = 0; i < n; i++) {
                        w.send(new ProducerRecord<>("bench", value));
                    }
                    w.flush();
                }
                double weir = n / ((System.nanoTime() - t0) / 1e9);
                long t1 = System.nanoTime();
                try (KafkaProducer<byte[], byte[]> k = new KafkaProducer<>(p, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                    for (int i = 0; i < n; i++) {
                        k.send(new org.apache.kafka.clients.producer.ProducerRecord<>("bench", value));
                    }
                    k.flush();
                }
                double kafka = n / ((System.nanoTime() - t1) / 1e9);
                System.out.printf("round %d codec %s: weir %.0f rec/s, kafka-clients %.0f rec/s, ratio %.2f%n", round,
                    codec, weir, kafka, weir / kafka);
            }
        }
    }
}
