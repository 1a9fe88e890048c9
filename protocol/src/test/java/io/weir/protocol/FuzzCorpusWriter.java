package io.weir.protocol;

import io.weir.protocol.internals.ProtocolWriter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes the seed corpus of {@link RequestDecoderFuzzTest}: for every implemented API and version,
 * one valid request body encoded by Apache kafka-clients ({@link KafkaRandomMessages}), framed for
 * each target. Deterministic (fixed seeds), so regenerating after adding an API only adds files.
 * Run from the protocol module after {@code mvn -pl protocol -am test-compile}:
 * <pre>
 * mvn -B -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
 * java -cp target/test-classes:target/classes:$(cat target/test.classpath) \
 *     io.weir.protocol.FuzzCorpusWriter src/test/resources
 * </pre>
 */
final class FuzzCorpusWriter {
    private FuzzCorpusWriter() {
    }

    public static void main(String[] args) throws IOException {
        Path inputs = Path.of(args[0]).resolve("io/weir/protocol/RequestDecoderFuzzTestInputs");
        Path frames = Files.createDirectories(inputs.resolve("parseRequest"));
        Path bodies = Files.createDirectories(inputs.resolve("decodeBody"));
        ApiKeys[] apis = ApiKeys.values();
        for (int index = 0; index < apis.length; index++) {
            ApiKeys api = apis[index];
            if (!KafkaRandomMessages.inKafkaClients(api)) {
                continue;
            }
            for (short v = api.lowestVersion(); v <= api.highestVersion(); v++) {
                Random random = new Random(1000L * api.id() + v);
                ByteBuffer body = KafkaRandomMessages.randomCanonical(api.apiName(), true, v, random);
                String name = "seed-" + api.apiName() + "-v" + v;

                RequestHeader header = RequestHeader.of(api, v, 1, "seed");
                ByteBuffer frame = ByteBuffer.allocate(header.size() + body.remaining());
                header.write(new ProtocolWriter(frame));
                frame.put(body.duplicate());
                Files.write(frames.resolve(name), frame.array());

                byte[] structured = new byte[2 + body.remaining()];
                structured[0] = (byte) index;
                structured[1] = (byte) (v - api.lowestVersion());
                body.duplicate().get(structured, 2, body.remaining());
                Files.write(bodies.resolve(name), structured);
            }
        }
    }
}
