package io.weir.streams;

import java.util.Properties;

/**
 * A stream job that {@code bin/weir-streams-run.sh --class <class>} can run: it builds its
 * {@link Topology} from the job's configuration, and the runner starts a {@link WeirStreams} on it,
 * stops it cleanly on SIGTERM (Ctrl-C) and exits non-zero if the job failed. The class needs a public
 * no-argument constructor. (A class with a {@code main(String[])} instead is run by calling its main.)
 */
@FunctionalInterface
public interface StreamsJob {

    /**
     * The job's topology. {@code config} holds the job's properties ({@code application.id},
     * {@code bootstrap.servers}, the job's own keys, ...).
     */
    Topology topology(Properties config);
}
