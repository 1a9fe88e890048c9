package io.weir.bench;

import picocli.CommandLine;

import java.io.PrintStream;
import java.io.PrintWriter;

/** Runs a picocli tool: usage errors print the message and usage and exit 2; failures exit 1. */
final class Tools {
    static final int USAGE = 2;
    static final int FAILED = 1;

    private Tools() {
    }

    static int execute(Object tool, PrintStream out, PrintStream err, String... args) {
        CommandLine cmd = new CommandLine(tool);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? USAGE : FAILED);
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof CommandLine.ParameterException) {
                // a check in call() that picocli's annotations cannot express: same treatment as a bad flag
                commandLine.getErr().println("ERROR: " + e.getMessage());
                commandLine.usage(commandLine.getErr());
                return USAGE;
            }
            if (e instanceof ClientKind.ClientNotAvailableException || e instanceof IllegalArgumentException) {
                commandLine.getErr().println("ERROR: " + e.getMessage());
            } else {
                e.printStackTrace(err);
            }
            return FAILED;
        });
        cmd.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("ERROR: " + e.getMessage());
            c.usage(c.getErr());
            return USAGE;
        });
        return cmd.execute(args);
    }
}
