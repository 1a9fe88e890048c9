package io.weir.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/** Client properties from a file ({@code --producer.config}) and {@code k=v} pairs, the pairs winning. */
final class ClientProps {
    private ClientProps() {
    }

    static Properties load(Path configFile, List<String> pairs) {
        Properties props = new Properties();
        if (configFile != null) {
            try (Reader reader = Files.newBufferedReader(configFile)) {
                props.load(reader);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + configFile + ": " + e.getMessage(), e);
            }
        }
        if (pairs != null) {
            for (String pair : pairs) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected key=value, got '" + pair + "'");
                }
                props.setProperty(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return props;
    }

    /** The {@code k=v} pairs with {@code bootstrap.servers} set to {@code bootstrapServer} (the flag winning). */
    static Properties withBootstrap(List<String> pairs, String bootstrapServer) {
        Properties props = load(null, pairs);
        props.setProperty("bootstrap.servers", bootstrapServer);
        return props;
    }
}
