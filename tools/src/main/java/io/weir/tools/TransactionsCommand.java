package io.weir.tools;

import io.weir.admin.AbortTransactionSpec;
import io.weir.admin.Admin;
import io.weir.admin.AdminOptions;
import io.weir.admin.ListTransactionsOptions;
import io.weir.admin.ProducerState;
import io.weir.admin.TopicDescription;
import io.weir.admin.TopicPartitionInfo;
import io.weir.admin.TransactionDescription;
import io.weir.admin.TransactionListing;
import io.weir.common.Time;
import io.weir.common.TopicPartition;
import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code bin/weir-transactions.sh}: looks at the transactional state of producers and recovers from
 * hanging transactions, with the subcommands, flags and output of Apache Kafka's
 * {@code kafka-transactions.sh} (4.4), so runbooks written for Kafka work against Weir:
 * {@code list}, {@code describe}, {@code describe-producers}, {@code abort}, {@code find-hanging} and
 * {@code forceTerminateTransaction} (also spelled {@code force-terminate}).
 *
 * <p>A transaction "hangs" when a partition holds an open transaction that its coordinator will never
 * finish (its markers were lost, or the coordinator no longer knows the producer): the partition's
 * last stable offset stays behind it and read_committed consumers stop there. {@code find-hanging}
 * reports such transactions; {@code abort} writes the ABORT marker into the partition directly.
 *
 * <p>Tables are printed as Kafka's tool prints them: each cell padded to its column's width and
 * followed by a tab. Exit status: 0 on success; 1 with the message and the usage on stderr for bad
 * flags; 1 with {@code <what failed>: <cause>.} on stderr when the broker refuses.
 */
@Command(name = "weir-transactions.sh", sortOptions = false, usageHelpAutoWidth = true,
    description = "This tool is used to analyze the transactional state of producers in the cluster. "
        + "It can be used to detect and recover from hanging transactions.",
    subcommands = {
        TransactionsCommand.ListCommand.class,
        TransactionsCommand.DescribeCommand.class,
        TransactionsCommand.DescribeProducersCommand.class,
        TransactionsCommand.AbortCommand.class,
        TransactionsCommand.FindHangingCommand.class,
        TransactionsCommand.ForceTerminateCommand.class
    })
public final class TransactionsCommand {
    @Option(names = "--command-config", paramLabel = "FILE",
        description = "property file containing configs to be passed to admin client")
    Path commandConfig;
    @Option(names = "--bootstrap-server", paramLabel = "host:port", required = true,
        description = "hostname and port for the broker to connect to, in the form `host:port`  "
            + "(multiple comma-separated entries can be given)")
    String bootstrapServer;
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
    boolean help;

    /** A failure reported on stderr with exit status 1 (Kafka's {@code printErrorAndExit}). */
    static final class CommandException extends Exception {
        private static final long serialVersionUID = 1L;

        CommandException(String message) {
            super(message);
        }

        /** Kafka's wording: the step that failed, the broker's reason, and a pointer to debug logging. */
        CommandException(String message, Throwable cause) {
            super(message + ": " + ConsumerGroupCommand.message(cause) + ". Enable debug logging for additional detail.");
        }
    }

    /** One subcommand: runs against the admin client, prints its table on {@code out}. */
    interface Subcommand {
        void execute(Admin admin, Time time, PrintStream out) throws Exception;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Admin::create, Time.SYSTEM));
    }

    /**
     * Runs the tool; returns the exit status. {@code adminFactory} and {@code time} (the clock that
     * transaction durations are measured against) are replaceable for tests.
     */
    static int run(String[] args, PrintStream out, PrintStream err, Function<Properties, Admin> adminFactory, Time time) {
        TransactionsCommand top = new TransactionsCommand();
        CommandLine cl = new CommandLine(top);
        Subcommand sub;
        try {
            CommandLine.ParseResult parsed = cl.parseArgs(args);
            CommandLine.ParseResult leaf = parsed;
            while (leaf.hasSubcommand()) {
                leaf = leaf.subcommand();
            }
            if (leaf.commandSpec().commandLine().isUsageHelpRequested()) {
                leaf.commandSpec().commandLine().usage(out);
                return 0;
            }
            if (!parsed.hasSubcommand()) {
                throw new CommandLine.ParameterException(cl, "Missing required subcommand: one of "
                    + String.join(", ", cl.getSubcommands().keySet()));
            }
            sub = (Subcommand) parsed.subcommand().commandSpec().userObject();
        } catch (CommandLine.ParameterException e) {
            err.println(e.getMessage());
            cl.usage(err);
            if (e.getCommandLine() != cl) {
                e.getCommandLine().usage(err);
            }
            return 1;
        }
        Properties props;
        try {
            props = Cli.loadProperties(top.commandConfig);
        } catch (IOException e) {
            err.println("Failed to load admin client properties: " + e.getMessage()
                + ". Enable debug logging for additional detail.");
            return 1;
        }
        props.setProperty("bootstrap.servers", top.bootstrapServer);
        try (Admin admin = adminFactory.apply(props)) {
            sub.execute(admin, time, out);
            return 0;
        } catch (CommandException e) {
            err.println(e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("Error: " + ConsumerGroupCommand.message(e));
            return 1;
        }
    }

    /** The value of a future, or a {@link CommandException} saying {@code what} failed and why. */
    static <T> T get(java.util.concurrent.CompletableFuture<T> f, String what) throws CommandException,
        InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw new CommandException(what, e.getCause());
        }
    }

    /**
     * Kafka's table layout (its {@code ToolsUtils.prettyPrintTable}): every cell left-aligned and
     * padded to the widest cell of its column, each followed by a tab.
     */
    static void printTable(List<String> headers, List<List<String>> rows, PrintStream out) {
        int[] widths = new int[headers.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = headers.get(i).length();
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        printRow(headers, widths, out);
        rows.forEach(row -> printRow(row, widths, out));
    }

    private static void printRow(List<String> cells, int[] widths, PrintStream out) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String cell = cells.get(i);
            sb.append(cell).append(" ".repeat(widths[i] - cell.length())).append('\t');
        }
        out.println(sb);
    }

    private static boolean isNotFound(Throwable t) {
        Throwable c = t instanceof CompletionException || t instanceof ExecutionException ? t.getCause() : t;
        return c instanceof ApiException a && a.error() == Errors.TRANSACTIONAL_ID_NOT_FOUND;
    }

    /** Kafka's "topic-partition" form, sorted so that the output does not depend on hash order. */
    private static String partitions(Set<TopicPartition> tps) {
        List<TopicPartition> sorted = new ArrayList<>(tps);
        sorted.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        return String.join(",", sorted.stream().map(TopicPartition::toString).toList());
    }

    // ------------------------------------------------------------------ list

    /** {@code list}: every transactional id the coordinators know, with its coordinator, producer id and state. */
    @Command(name = "list", description = "list transactions", sortOptions = false)
    static final class ListCommand implements Subcommand {
        static final List<String> HEADERS = List.of("TransactionalId", "Coordinator", "ProducerId", "TransactionState");

        @Option(names = "--duration-filter", paramLabel = "MS", description = "Duration (in millis) to filter by: "
            + "if < 0, all transactions will be returned; otherwise, only transactions running longer than this "
            + "duration will be returned")
        Long durationFilterMs;
        @Option(names = "--transactional-id-pattern", paramLabel = "REGEX",
            description = "Transactional id regular expression pattern to filter by")
        String transactionalIdPattern;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
        boolean help;

        @Override
        public void execute(Admin admin, Time time, PrintStream out) throws Exception {
            Pattern pattern = null;
            if (transactionalIdPattern != null) {
                try {
                    pattern = Pattern.compile(transactionalIdPattern);
                } catch (PatternSyntaxException e) {
                    throw new CommandException("Invalid --transactional-id-pattern: " + e.getDescription());
                }
            }
            ListTransactionsOptions filters = new ListTransactionsOptions(Set.of(), Set.of(),
                durationFilterMs == null ? -1 : durationFilterMs);
            List<TransactionListing> listed = get(admin.listTransactions(filters, AdminOptions.defaults()),
                "Failed to list transactions");
            // Weir's admin merges the coordinators' answers; the coordinator of each id comes from
            // DescribeTransactions (an id that expired in between keeps -1, as Kafka prints unknown ids).
            List<TransactionListing> matching = new ArrayList<>();
            for (TransactionListing l : listed) {
                if (pattern == null || pattern.matcher(l.transactionalId()).matches()) {
                    matching.add(l);
                }
            }
            Map<String, Integer> coordinators = new HashMap<>();
            if (!matching.isEmpty()) {
                var described = admin.describeTransactions(matching.stream().map(TransactionListing::transactionalId)
                    .toList(), AdminOptions.defaults());
                described.values().forEach((id, f) -> {
                    try {
                        coordinators.put(id, f.get().coordinatorId());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (ExecutionException e) {
                        coordinators.put(id, -1);
                    }
                });
            }
            List<List<String>> rows = new ArrayList<>();
            for (TransactionListing l : matching) {
                rows.add(List.of(l.transactionalId(), String.valueOf(coordinators.getOrDefault(l.transactionalId(), -1)),
                    String.valueOf(l.producerId()), l.state()));
            }
            printTable(HEADERS, rows, out);
        }
    }

    // ------------------------------------------------------------------ describe

    /** {@code describe}: one transactional id as its coordinator sees it. */
    @Command(name = "describe", description = "Describe the state of an active transactional-id.", sortOptions = false)
    static final class DescribeCommand implements Subcommand {
        static final List<String> HEADERS = List.of("CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch",
            "TransactionState", "TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs",
            "TopicPartitions");

        @Option(names = "--transactional-id", required = true, paramLabel = "ID", description = "transactional id")
        String transactionalId;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
        boolean help;

        @Override
        public void execute(Admin admin, Time time, PrintStream out) throws Exception {
            TransactionDescription d = get(admin.describeTransactions(List.of(transactionalId), AdminOptions.defaults())
                .value(transactionalId), "Failed to describe transaction state of transactional-id `"
                + transactionalId + "`");
            String start = "None";
            String duration = "None";
            if (d.transactionStartTimeMs().isPresent()) {
                long startMs = d.transactionStartTimeMs().getAsLong();
                start = String.valueOf(startMs);
                duration = String.valueOf(time.milliseconds() - startMs);
            }
            printTable(HEADERS, List.of(List.of(String.valueOf(d.coordinatorId()), transactionalId,
                String.valueOf(d.producerId()), String.valueOf(d.producerEpoch()), d.state(),
                String.valueOf(d.transactionTimeoutMs()), start, duration, partitions(d.topicPartitions()))), out);
        }
    }

    // ------------------------------------------------------------------ describe-producers

    /** {@code describe-producers}: the producers with state in one partition, from its leader. */
    @Command(name = "describe-producers", description = "describe the states of active producers for a topic partition",
        sortOptions = false)
    static final class DescribeProducersCommand implements Subcommand {
        static final List<String> HEADERS = List.of("ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch",
            "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset");

        @Option(names = "--broker-id", paramLabel = "ID",
            description = "optional broker id to describe the producer state on a specific replica")
        Integer brokerId;
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "topic name")
        String topic;
        @Option(names = "--partition", required = true, paramLabel = "N", description = "partition number")
        int partition;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
        boolean help;

        @Override
        public void execute(Admin admin, Time time, PrintStream out) throws Exception {
            TopicPartition tp = new TopicPartition(topic, partition);
            String where = brokerId == null ? "leader" : "broker " + brokerId;
            String what = "Failed to describe producers for partition " + tp + " on " + where;
            if (brokerId != null) {
                requireLeader(admin, tp, brokerId, what);
            }
            List<ProducerState> producers = get(admin.describeProducers(List.of(tp), AdminOptions.defaults()).value(tp),
                what);
            List<List<String>> rows = new ArrayList<>();
            for (ProducerState s : producers) {
                rows.add(List.of(String.valueOf(s.producerId()), String.valueOf(s.producerEpoch()),
                    String.valueOf(s.coordinatorEpoch().orElse(-1)), String.valueOf(s.lastSequence()),
                    String.valueOf(s.lastTimestamp()), s.currentTransactionStartOffset().isPresent()
                        ? String.valueOf(s.currentTransactionStartOffset().getAsLong()) : "None"));
            }
            printTable(HEADERS, rows, out);
        }

        /**
         * Weir's admin asks a partition's leader for its producers; a follower's copy of the producer
         * state cannot be asked for yet, so {@code --broker-id} must name the leader.
         */
        private static void requireLeader(Admin admin, TopicPartition tp, int brokerId, String what) throws Exception {
            TopicDescription d = get(admin.describeTopics(List.of(tp.topic()), AdminOptions.defaults()).value(tp.topic()),
                what);
            Optional<TopicPartitionInfo> info = d.partitions().stream().filter(p -> p.partition() == tp.partition())
                .findFirst();
            if (info.isEmpty()) {
                throw new CommandException(what + ": This server does not host this topic-partition.");
            }
            if (info.get().leader() == null || info.get().leader().id() != brokerId) {
                throw new CommandException(what + ": only the partition's leader ("
                    + (info.get().leader() == null ? "none" : info.get().leader().id())
                    + ") can be asked for its producers.");
            }
        }
    }

    // ------------------------------------------------------------------ abort

    /** {@code abort}: ends a hanging transaction in one partition with an ABORT marker. */
    @Command(name = "abort", description = "abort a hanging transaction (requires administrative privileges)",
        sortOptions = false)
    static final class AbortCommand implements Subcommand {
        @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "topic name")
        String topic;
        @Option(names = "--partition", required = true, paramLabel = "N", description = "partition number")
        int partition;
        @Option(names = "--start-offset", paramLabel = "OFFSET",
            description = "start offset of the transaction to abort (brokers on versions 3.0 and above)")
        Long startOffset;
        @Option(names = "--producer-id", paramLabel = "ID", description = "producer id (brokers older than 3.0)")
        Long producerId;
        @Option(names = "--producer-epoch", paramLabel = "EPOCH", description = "producer epoch (brokers older than 3.0)")
        Short producerEpoch;
        @Option(names = "--coordinator-epoch", paramLabel = "EPOCH",
            description = "coordinator epoch (brokers older than 3.0)")
        Integer coordinatorEpoch;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
        boolean help;

        @Override
        public void execute(Admin admin, Time time, PrintStream out) throws Exception {
            TopicPartition tp = new TopicPartition(topic, partition);
            if (startOffset == null && producerId == null) {
                throw new CommandException("The transaction to abort must be identified either with "
                    + "--start-offset (for brokers on 3.0 or above) or with "
                    + "--producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)");
            }
            AbortTransactionSpec spec;
            if (startOffset == null) {
                if (producerEpoch == null) {
                    throw new CommandException("Missing required argument --producer-epoch");
                }
                if (coordinatorEpoch == null) {
                    throw new CommandException("Missing required argument --coordinator-epoch");
                }
                // A producer that hung before its first marker reports coordinator epoch -1; 0 is no
                // greater than any coordinator epoch the partition can have seen.
                spec = new AbortTransactionSpec(tp, producerId, producerEpoch, Math.max(0, coordinatorEpoch));
            } else {
                spec = specAt(admin, tp, startOffset);
            }
            get(admin.abortTransaction(spec, AdminOptions.defaults()), "Failed to abort transaction " + spec);
        }

        /** The open transaction that starts at {@code offset} in {@code tp}, from the leader's producer state. */
        private static AbortTransactionSpec specAt(Admin admin, TopicPartition tp, long offset) throws Exception {
            List<ProducerState> producers = get(admin.describeProducers(List.of(tp), AdminOptions.defaults()).value(tp),
                "Failed to validate producer state for partition " + tp);
            for (ProducerState s : producers) {
                OptionalLong start = s.currentTransactionStartOffset();
                if (start.isPresent() && start.getAsLong() == offset) {
                    return new AbortTransactionSpec(tp, s.producerId(), (short) s.producerEpoch(),
                        s.coordinatorEpoch().orElse(0));
                }
            }
            throw new CommandException("Could not find any open transactions starting at offset " + offset
                + " on partition " + tp);
        }
    }

    // ------------------------------------------------------------------ find-hanging

    /**
     * {@code find-hanging}: open transactions older than {@code --max-transaction-timeout} whose
     * coordinator does not expect to finish them in that partition (no transactional id maps to the
     * producer, the id has moved to another producer, or its transaction does not hold the partition).
     */
    @Command(name = "find-hanging", description = "find hanging transactions", sortOptions = false)
    static final class FindHangingCommand implements Subcommand {
        static final List<String> HEADERS = List.of("Topic", "Partition", "ProducerId", "ProducerEpoch",
            "CoordinatorEpoch", "StartOffset", "LastTimestamp", "Duration(min)");
        /** Partitions per DescribeProducers call, so that a broker with many partitions is not sent one huge request. */
        static final int MAX_BATCH_SIZE = 500;

        @Option(names = "--broker-id", paramLabel = "ID", description = "broker id to search for hanging transactions")
        Integer brokerId;
        @Option(names = "--max-transaction-timeout", paramLabel = "MINUTES", description = "maximum transaction "
            + "timeout in minutes to limit the scope of the search (15 minutes by default)")
        int maxTransactionTimeoutMin = 15;
        @Option(names = "--topic", paramLabel = "TOPIC",
            description = "topic name to limit search to (required if --partition is specified)")
        String topic;
        @Option(names = "--partition", paramLabel = "N", description = "partition number")
        Integer partition;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
        boolean help;

        /** An open transaction found in a partition's producer state. */
        record OpenTransaction(TopicPartition partition, ProducerState producer) {
        }

        @Override
        public void execute(Admin admin, Time time, PrintStream out) throws Exception {
            if (topic == null && brokerId == null) {
                throw new CommandException("The `find-hanging` command requires either --topic "
                    + "or --broker-id to limit the scope of the search");
            }
            if (partition != null && topic == null) {
                throw new CommandException("The --partition argument requires --topic to be provided");
            }
            long maxTimeoutMs = TimeUnit.MINUTES.toMillis(maxTransactionTimeoutMin);
            List<TopicPartition> searched = partitionsToSearch(admin);
            List<OpenTransaction> candidates = openTransactions(admin, time, maxTimeoutMs, searched);
            List<OpenTransaction> hanging = candidates.isEmpty() ? List.of() : hanging(admin, candidates);
            long nowMs = time.milliseconds();
            List<List<String>> rows = new ArrayList<>();
            for (OpenTransaction t : hanging) {
                ProducerState s = t.producer();
                rows.add(List.of(t.partition().topic(), String.valueOf(t.partition().partition()),
                    String.valueOf(s.producerId()), String.valueOf(s.producerEpoch()),
                    String.valueOf(s.coordinatorEpoch().orElse(-1)),
                    String.valueOf(s.currentTransactionStartOffset().orElse(-1)), String.valueOf(s.lastTimestamp()),
                    String.valueOf(TimeUnit.MILLISECONDS.toMinutes(nowMs - s.lastTimestamp()))));
            }
            printTable(HEADERS, rows, out);
        }

        private List<TopicPartition> partitionsToSearch(Admin admin) throws Exception {
            if (topic != null && partition != null) {
                return List.of(new TopicPartition(topic, partition));
            }
            List<String> topics = topic != null ? List.of(topic)
                : new ArrayList<>(new TreeSet<>(get(admin.listTopics(AdminOptions.defaults().listInternal(true)),
                    "Failed to list topics").keySet()));
            List<TopicPartition> out = new ArrayList<>();
            for (int i = 0; i < topics.size(); i += MAX_BATCH_SIZE) {
                List<String> batch = topics.subList(i, Math.min(topics.size(), i + MAX_BATCH_SIZE));
                Map<String, TopicDescription> described = get(admin.describeTopics(batch, AdminOptions.defaults()).all(),
                    "Failed to describe " + batch.size() + " topics");
                for (TopicDescription d : described.values()) {
                    for (TopicPartitionInfo p : d.partitions()) {
                        if (brokerId == null || p.replicas().stream().anyMatch(n -> n.id() == brokerId)) {
                            out.add(new TopicPartition(d.name(), p.partition()));
                        }
                    }
                }
            }
            return out;
        }

        private List<OpenTransaction> openTransactions(Admin admin, Time time, long maxTimeoutMs,
                                                       List<TopicPartition> partitions) throws Exception {
            List<OpenTransaction> out = new ArrayList<>();
            for (int i = 0; i < partitions.size(); i += MAX_BATCH_SIZE) {
                List<TopicPartition> batch = partitions.subList(i, Math.min(partitions.size(), i + MAX_BATCH_SIZE));
                Map<TopicPartition, List<ProducerState>> byPartition = get(
                    admin.describeProducers(batch, AdminOptions.defaults()).all(),
                    "Failed to describe producers for " + batch.size() + " partitions on broker "
                        + (brokerId == null ? "Optional.empty" : "Optional[" + brokerId + "]"));
                long nowMs = time.milliseconds();
                byPartition.forEach((tp, producers) -> producers.forEach(s -> {
                    if (s.currentTransactionStartOffset().isPresent() && nowMs - s.lastTimestamp() > maxTimeoutMs) {
                        out.add(new OpenTransaction(tp, s));
                    }
                }));
            }
            return out;
        }

        private static List<OpenTransaction> hanging(Admin admin, List<OpenTransaction> candidates) throws Exception {
            Map<Long, List<OpenTransaction>> byProducer = new LinkedHashMap<>();
            candidates.forEach(t -> byProducer.computeIfAbsent(t.producer().producerId(), k -> new ArrayList<>()).add(t));
            List<TransactionListing> listed = get(admin.listTransactions(
                new ListTransactionsOptions(Set.of(), byProducer.keySet(), -1), AdminOptions.defaults()),
                "Failed to list transactions for " + byProducer.size() + " producers");
            Map<Long, String> idOfProducer = new HashMap<>();
            listed.forEach(l -> {
                if (byProducer.containsKey(l.producerId())) {
                    idOfProducer.put(l.producerId(), l.transactionalId());
                }
            });
            Map<String, TransactionDescription> descriptions = new HashMap<>();
            if (!idOfProducer.isEmpty()) {
                var described = admin.describeTransactions(new TreeSet<>(idOfProducer.values()), AdminOptions.defaults());
                for (var e : described.values().entrySet()) {
                    try {
                        descriptions.put(e.getKey(), e.getValue().get());
                    } catch (ExecutionException ex) {
                        if (!isNotFound(ex)) {
                            throw new CommandException("Failed to describe " + idOfProducer.size() + " transactions",
                                ex.getCause());
                        }
                    }
                }
            }
            List<OpenTransaction> out = new ArrayList<>();
            byProducer.forEach((pid, open) -> {
                String id = idOfProducer.get(pid);
                TransactionDescription d = id == null ? null : descriptions.get(id);
                for (OpenTransaction t : open) {
                    // While the coordinator holds the partition in the id's transaction (ongoing, or
                    // preparing with markers still to write) it will end the transaction itself.
                    if (d == null || !d.topicPartitions().contains(t.partition())) {
                        out.add(t);
                    }
                }
            });
            return out;
        }
    }

    // ------------------------------------------------------------------ forceTerminateTransaction

    /**
     * {@code forceTerminateTransaction} (Kafka's name; {@code force-terminate} also works): aborts the
     * transactional id's open transaction and fences its current producer by bumping its epoch.
     */
    @Command(name = "forceTerminateTransaction", aliases = "force-terminate",
        description = "Force abort an ongoing transaction on transactionalId (requires administrative privileges)",
        sortOptions = false)
    static final class ForceTerminateCommand implements Subcommand {
        @Option(names = "--transactionalId", required = true, paramLabel = "ID", description = "transactional id")
        String transactionalId;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help message and exit")
        boolean help;

        @Override
        public void execute(Admin admin, Time time, PrintStream out) throws Exception {
            get(admin.fenceProducers(List.of(transactionalId), AdminOptions.defaults()).value(transactionalId),
                "Failed to force terminate transactionalId `" + transactionalId + "`");
        }
    }
}
