package io.weir.tools;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What the command-line tools share: parsing flags into a picocli command, Kafka's usage-error
 * convention (the message and the usage text on stderr, exit status 1; {@code --help} on stdout,
 * exit 0), and {@code key=value} pairs from repeated flags.
 */
final class Cli {
    private Cli() {
    }

    /** A usage error: reported with the usage text and exit status 1. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Checks that run after picocli has filled the command's fields. */
    @FunctionalInterface
    interface Checks {
        void run() throws UsageException;
    }

    /**
     * Parses {@code args} into {@code cl}'s command and runs {@code checks}. Returns null when the tool
     * should go on, or the exit status it must return now (help or usage already printed).
     */
    static Integer parse(CommandLine cl, String[] args, PrintStream out, PrintStream err, Checks checks) {
        try {
            cl.parseArgs(args);
            if (cl.isUsageHelpRequested()) {
                cl.usage(out);
                return 0;
            }
            checks.run();
            return null;
        } catch (CommandLine.ParameterException | UsageException e) {
            err.println(e.getMessage());
            cl.usage(err);
            return 1;
        }
    }

    /** {@code NAME=VALUE} pairs from a repeated flag; a pair without '=' is a usage error naming the flag. */
    static Map<String, String> parsePairs(List<String> pairs, String flag) throws UsageException {
        Map<String, String> out = new HashMap<>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("Invalid " + flag + " '" + p + "': expected NAME=VALUE");
            }
            out.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim());
        }
        return out;
    }

    /** A {@code --command-config}/{@code --consumer.config} style properties file; empty for null. */
    static Properties loadProperties(Path file) throws IOException {
        Properties p = new Properties();
        if (file != null) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
        }
        return p;
    }

    /**
     * The admin client's properties: the {@code --command-config} file (none for null) with
     * {@code bootstrap.servers} set. Returns null, after printing {@code <errorPrefix>cannot read FILE: why}
     * to {@code report}, when the file cannot be read.
     */
    static Properties adminProperties(Path commandConfig, String bootstrapServer, PrintStream report, String errorPrefix) {
        Properties props;
        try {
            props = loadProperties(commandConfig);
        } catch (IOException e) {
            report.println(errorPrefix + "cannot read " + commandConfig + ": " + e.getMessage());
            return null;
        }
        props.setProperty("bootstrap.servers", bootstrapServer);
        return props;
    }

    /**
     * {@code e} without its {@link CompletionException}/{@link ExecutionException} wrappers: what the broker
     * or the client threw, for the tools' error lines.
     */
    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
