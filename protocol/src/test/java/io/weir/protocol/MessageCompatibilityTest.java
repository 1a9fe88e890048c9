package io.weir.protocol;

import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.ApiMessages;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The outside check: for every implemented API, every supported version, request and response,
 * random messages encoded by Apache kafka-clients must parse with Weir's generated classes and
 * re-encode byte for byte; Kafka must parse Weir's bytes back to an equal message; and every strict
 * prefix of the bytes must fail with a typed {@link ProtocolDecodeException}.
 */
class MessageCompatibilityTest {
    private static final int SAMPLES_PER_VERSION = 15;

    @TestFactory
    List<DynamicTest> shouldRoundTripKafkaEncodedMessagesByteForByte() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ApiKeys api : ApiKeys.values()) {
            if (!KafkaRandomMessages.inKafkaClients(api)) {
                continue; // ZooKeeper-era inter-broker API: compat-tests-kafka3 checks it
            }
            for (short v = api.lowestVersion(); v <= api.highestVersion(); v++) {
                for (boolean request : new boolean[] {true, false}) {
                    short version = v;
                    String name = api.apiName() + (request ? "Request" : "Response") + " v" + version;
                    tests.add(DynamicTest.dynamicTest(name, () -> roundTrip(api, request, version)));
                }
            }
        }
        return tests;
    }

    private static void roundTrip(ApiKeys api, boolean request, short version) {
        for (int i = 0; i < SAMPLES_PER_VERSION; i++) {
            long seed = 31L * api.id() * 1000 + version * 100L + i + (request ? 0 : 500_000);
            String what = api.apiName() + (request ? "Request" : "Response") + " v" + version + " seed " + seed;
            ByteBuffer kafkaBytes = KafkaRandomMessages.randomCanonical(api.apiName(), request, version, new Random(seed));

            ProtocolReader reader = new ProtocolReader(kafkaBytes.duplicate());
            io.weir.protocol.ApiMessage weir = request
                ? ApiMessages.readRequest(api.id(), version, reader)
                : ApiMessages.readResponse(api.id(), version, reader);
            assertEquals(0, reader.remaining(), what + ": Weir left bytes unread");
            assertEquals(kafkaBytes.remaining(), weir.size(version), what + ": size");

            ByteBuffer weirBytes = ByteBuffer.allocate(weir.size(version));
            weir.write(new ProtocolWriter(weirBytes), version);
            weirBytes.flip();
            assertEquals(kafkaBytes, weirBytes, what + ": bytes differ");

            // reverse direction: Kafka reads what Weir wrote, to the same message
            Class<?> cls = KafkaRandomMessages.dataClass(api.apiName(), request);
            assertEquals(KafkaRandomMessages.kafkaRead(cls, kafkaBytes, version),
                KafkaRandomMessages.kafkaRead(cls, weirBytes, version), what + ": Kafka's view differs");

            // every truncation is a typed error
            if (i == 0) {
                int step = Math.max(1, kafkaBytes.remaining() / 64); // every prefix of small messages, a sample of big ones
                for (int cut = 0; cut < kafkaBytes.remaining(); cut += step) {
                    ByteBuffer prefix = kafkaBytes.duplicate().limit(kafkaBytes.position() + cut);
                    assertThrows(ProtocolDecodeException.class, () -> {
                        ProtocolReader r = new ProtocolReader(prefix);
                        if (request) {
                            ApiMessages.readRequest(api.id(), version, r);
                        } else {
                            ApiMessages.readResponse(api.id(), version, r);
                        }
                    }, what + " truncated to " + cut);
                }
            }
        }
    }

    @TestFactory
    List<DynamicTest> shouldFailWithTypedErrorsOnRandomGarbage() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ApiKeys api : ApiKeys.values()) {
            tests.add(DynamicTest.dynamicTest(api.apiName(), () -> {
                Random random = new Random(api.id());
                for (int i = 0; i < 2000; i++) {
                    byte[] garbage = new byte[random.nextInt(64)];
                    random.nextBytes(garbage);
                    short version = (short) (api.lowestVersion()
                        + random.nextInt(api.highestVersion() - api.lowestVersion() + 1));
                    boolean request = random.nextBoolean();
                    try {
                        ProtocolReader r = new ProtocolReader(ByteBuffer.wrap(garbage));
                        if (request) {
                            ApiMessages.readRequest(api.id(), version, r);
                        } else {
                            ApiMessages.readResponse(api.id(), version, r);
                        }
                    } catch (ProtocolDecodeException expected) {
                        // the only acceptable failure
                    }
                }
            }));
        }
        return tests;
    }
}
