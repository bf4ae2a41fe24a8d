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
 * Errors print one line ({@code shmkit: error: ...}) and exit with status 1; usage errors
 * exit with status 2. {@code --verbose} adds the stack trace.
 */
@Command(name = "shmkit", mixinStandardHelpOptions = true, version = "shmkit 0.1.0",
        description = "Shared memory segments, locks and allocators for the JVM.",
        subcommands = {CreateCommand.class, LsCommand.class, InfoCommand.class, StatCommand.class, RmCommand.class,
                DemoCommand.class, DemoPeerCommand.class, ZoneWorkerCommand.class, PoolsCommand.class,
                CommandLine.HelpCommand.class})
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
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            err.println("shmkit: error: " + msg);
            if (main.verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
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
