package io.shmkit.cli;

import io.shmkit.segment.Backend;
import io.shmkit.segment.SegmentName;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * The {@code shmkit} command: create, list, inspect and remove segments, and run the demo.
 * Every error, whatever its type ({@link Error}s such as {@link InternalError} included),
 * prints one line ({@code shmkit: error: ...}); {@code --verbose} adds the stack trace. Exit
 * status: 0 success, 1 an error while running (or {@code stat --verify} found damage), 2 a
 * usage error (unknown option, missing or invalid argument).
 */
@Command(name = "shmkit", mixinStandardHelpOptions = true, version = "shmkit 0.1.0",
        description = "Shared memory segments, locks and allocators for the JVM.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:an error while running (one line on stderr; --verbose adds the stack trace)",
                "2:a usage error: unknown option, missing or invalid argument"},
        subcommands = {CreateCommand.class, LsCommand.class, InfoCommand.class, StatCommand.class, RmCommand.class,
                DemoCommand.class, DemoPeerCommand.class, ZoneWorkerCommand.class, PoolsCommand.class,
                TableCommand.class, io.shmkit.cli.torture.TortureCommand.class, io.shmkit.cli.torture.TortureWorkerCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    @Option(names = {"-v", "--verbose"}, description = "Print stack traces on errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit status (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, main.verbose, err));
        cl.setParameterExceptionHandler((ex, parseArgs) -> {
            err.println("shmkit: error: " + oneLine(ex.getMessage()) + " (see '"
                    + ex.getCommandLine().getCommandSpec().qualifiedName(" ") + " --help')");
            if (main.verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_USAGE;
        });
        int rc;
        try {
            rc = cl.execute(args);
        } catch (Throwable t) { // an Error escapes picocli's handler, which only sees Exceptions
            rc = report(t, main.verbose, err);
        }
        out.flush();
        err.flush();
        return rc;
    }

    /** Exit status of a usage error (picocli's convention, documented in --help). */
    static final int EXIT_USAGE = 2;
    /** Exit status of an error while running. */
    static final int EXIT_ERROR = 1;

    /** Prints one line for any throwable and returns its exit status. */
    static int report(Throwable ex, boolean verbose, PrintWriter err) {
        // an invalid argument value (a size, a mode, a name) is the user's input: a usage error
        boolean usage = ex instanceof IllegalArgumentException;
        err.println("shmkit: error: " + describe(ex));
        if (verbose) {
            ex.printStackTrace(err);
        }
        err.flush();
        return usage ? EXIT_USAGE : EXIT_ERROR;
    }

    /** The message of {@code ex} on one line, with a hint for faults the JVM reports as InternalError. */
    static String describe(Throwable ex) {
        String msg = ex.getMessage() == null ? ex.getClass().getName() : oneLine(ex.getMessage());
        if (ex instanceof InternalError && msg.contains("fault occurred")) {
            return msg + " (SIGBUS: a page of the segment has no memory behind it: its file was truncated by another"
                    + " process, or a sparse segment's file system is full)";
        }
        if (ex instanceof Error) {
            return ex.getClass().getSimpleName() + ": " + msg;
        }
        return msg;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** Resolves NAME with an optional explicit backend. */
    static SegmentName resolve(String name, Backend backend) {
        if (backend == null) {
            return SegmentName.parse(name);
        }
        return switch (backend) {
            case POSIX -> SegmentName.posix(name);
            case FILE -> SegmentName.file(Path.of(name));
            case SYSV -> new SegmentName(Backend.SYSV, name);
            case ANONYMOUS -> throw new IllegalArgumentException("anonymous segments have no name and cannot be used from the command line");
        };
    }

    /** Accepts backend names in lower case. */
    static final class BackendConverter implements CommandLine.ITypeConverter<Backend> {
        @Override
        public Backend convert(String value) {
            return switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "posix" -> Backend.POSIX;
                case "file" -> Backend.FILE;
                case "sysv" -> Backend.SYSV;
                default -> throw new CommandLine.TypeConversionException("invalid backend '" + value + "' (expected posix, file or sysv)");
            };
        }
    }
}
