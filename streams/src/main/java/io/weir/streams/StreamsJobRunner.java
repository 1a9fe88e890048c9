package io.weir.streams;

import io.weir.common.config.ConfigException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The entry point of {@code bin/weir-streams-run.sh}: {@code --class com.example.Job [--config
 * job.properties] [--jar job.jar] [--property key=value]... [-- job args]}. A class implementing
 * {@link StreamsJob} gets its topology built from the configuration (the file, then each
 * {@code --property}) and run by a {@link WeirStreams} until the process is told to stop (SIGTERM or
 * Ctrl-C closes it cleanly: the last transaction commits) or the job fails (exit status 1). Any other
 * class must have a {@code public static void main(String[])}, which is called with the job args.
 */
public final class StreamsJobRunner {
    private StreamsJobRunner() {
    }

    public static void main(String[] args) {
        int status = run(args, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs a job to its end; returns the exit status (0 ok, 1 the job failed, 2 bad arguments). */
    public static int run(String[] args, PrintStream err) {
        String className = null;
        Path configFile = null;
        List<Path> jars = new ArrayList<>();
        Properties overrides = new Properties();
        List<String> jobArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                jobArgs.addAll(Arrays.asList(args).subList(i + 1, args.length));
                break;
            }
            if (i + 1 >= args.length || !a.startsWith("--")) {
                err.println("Unknown or incomplete option: " + a);
                return usage(err);
            }
            String v = args[++i];
            switch (a) {
                case "--class" -> className = v;
                case "--config" -> configFile = Path.of(v);
                case "--jar" -> jars.add(Path.of(v));
                case "--property" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        err.println("--property takes key=value, got " + v);
                        return usage(err);
                    }
                    overrides.setProperty(v.substring(0, eq), v.substring(eq + 1));
                }
                default -> {
                    err.println("Unknown option: " + a);
                    return usage(err);
                }
            }
        }
        if (className == null) {
            err.println("--class is required");
            return usage(err);
        }
        Properties config = new Properties();
        if (configFile != null) {
            try (InputStream in = Files.newInputStream(configFile)) {
                config.load(in);
            } catch (IOException e) {
                err.println("Cannot read the config file " + configFile + ": " + e);
                return 2;
            }
        }
        config.putAll(overrides);
        Class<?> jobClass;
        try {
            jobClass = Class.forName(className, true, loader(jars));
        } catch (ClassNotFoundException | MalformedURLException e) {
            err.println("Cannot load the job class " + className + (jars.isEmpty() ? "" : " from " + jars) + ": " + e);
            return 2;
        }
        try {
            if (StreamsJob.class.isAssignableFrom(jobClass)) {
                StreamsJob job = (StreamsJob) jobClass.getDeclaredConstructor().newInstance();
                return runJob(job, config, err);
            }
            Method main = jobClass.getMethod("main", String[].class);
            if (!Modifier.isStatic(main.getModifiers())) {
                err.println(className + " neither implements " + StreamsJob.class.getName() + " nor has a static main");
                return 2;
            }
            main.invoke(null, (Object) jobArgs.toArray(new String[0]));
            return 0;
        } catch (NoSuchMethodException e) {
            err.println(className + " neither implements " + StreamsJob.class.getName() + " nor has main(String[])");
            return 2;
        } catch (InvocationTargetException e) {
            e.getCause().printStackTrace(err);
            return 1;
        } catch (ReflectiveOperationException e) {
            err.println("Cannot create the job " + className + ": " + e);
            return 2;
        }
    }

    private static int runJob(StreamsJob job, Properties config, PrintStream err) {
        WeirStreams streams;
        try {
            streams = new WeirStreams(job.topology(config), config);
        } catch (ConfigException e) {
            err.println("Invalid job configuration: " + e.getMessage());
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        streams.setStateListener((now, old) -> {
            if (now == WeirStreams.State.NOT_RUNNING || now == WeirStreams.State.ERROR) {
                stopped.countDown();
            }
        });
        Thread hook = new Thread(() -> {
            streams.close(Duration.ofSeconds(60));
            stopped.countDown();
        }, "weir-streams-shutdown-hook");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            streams.start();
        } catch (RuntimeException e) {
            e.printStackTrace(err);
            err.println("The job failed to start: " + e.getMessage());
            return 1;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        WeirStreams.State end = streams.state();
        if (end == WeirStreams.State.ERROR) {
            err.println("The job failed (see the log above)");
            return 1;
        }
        return 0;
    }

    private static ClassLoader loader(List<Path> jars) throws MalformedURLException {
        ClassLoader parent = StreamsJobRunner.class.getClassLoader();
        if (jars.isEmpty()) {
            return parent;
        }
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) {
            urls[i] = jars.get(i).toUri().toURL();
        }
        return new URLClassLoader(urls, parent);
    }

    private static int usage(PrintStream err) {
        err.println("Usage: weir-streams-run.sh --class com.example.Job [--config job.properties] [--jar job.jar]"
            + " [--property key=value]... [-- job args]");
        err.println("  the class implements io.weir.streams.StreamsJob (Topology topology(Properties)) or has a main(String[])");
        return 2;
    }
}
