package io.weir.broker;

import io.weir.common.config.ConfigException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * {@code bin/weir-server-start.sh config/server.properties [--override key=value ...]}: loads the
 * properties, applies overrides, starts a {@link Broker} and stops it cleanly on SIGTERM/SIGINT.
 */
public final class WeirServer {
    private WeirServer() {
    }

    static final String USAGE = "USAGE: weir-server-start.sh server.properties [--override property=value]*";

    /** Parses the command line into broker properties; throws IllegalArgumentException with a reason. */
    static Map<String, String> parseArgs(String[] args) throws IOException {
        if (args.length < 1 || args[0].startsWith("--")) {
            throw new IllegalArgumentException("the first argument must be the properties file");
        }
        Path file = Paths.get(args[0]);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("properties file " + file + " does not exist");
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
        }
        Map<String, String> out = new HashMap<>();
        for (String k : props.stringPropertyNames()) {
            out.put(k, props.getProperty(k).trim());
        }
        for (int i = 1; i < args.length; i++) {
            if (!args[i].equals("--override") || i + 1 >= args.length) {
                throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
            }
            String kv = args[++i];
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--override needs key=value, got '" + kv + "'");
            }
            out.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        return out;
    }

    public static void main(String[] args) {
        // the ZooKeeper client and Curator log every connection detail (environment, class path) at INFO;
        // keep the broker's log to their warnings unless the operator set a level
        for (String noisy : new String[] {"org.apache.zookeeper", "org.apache.curator"}) {
            String key = "org.slf4j.simpleLogger.log." + noisy;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        }
        System.exit(run(args, System.err));
    }

    static int run(String[] args, PrintStream err) {
        Map<String, String> props;
        BrokerConfig config;
        try {
            props = parseArgs(args);
            config = new BrokerConfig(props);
        } catch (IllegalArgumentException | IOException e) {
            err.println("Error: " + e.getMessage());
            err.println(USAGE);
            return 1;
        } catch (ConfigException e) {
            err.println("Error: " + e.getMessage());
            return 1;
        }
        Broker broker = new Broker(config);
        try {
            broker.startup();
        } catch (RuntimeException e) {
            err.println("Error: could not start the broker: " + e.getMessage());
            e.printStackTrace(err);
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(broker::shutdown, "weir-shutdown"));
        try {
            broker.awaitShutdown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (broker.stoppedByLogDirFailure()) {
            err.println("Error: the broker stopped because every log directory failed (see its log)");
            return 1;
        }
        return 0;
    }
}
