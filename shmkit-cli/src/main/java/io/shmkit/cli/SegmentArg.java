package io.shmkit.cli;

import io.shmkit.segment.Backend;
import io.shmkit.segment.SegmentName;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The NAME argument and {@code --backend} option shared by the commands that act on one segment. */
final class SegmentArg {

    @Parameters(paramLabel = "NAME", description = "Segment name: NAME, posix:NAME, file:PATH or sysv:KEY.")
    String name;

    @Option(names = "--backend", paramLabel = "posix|file|sysv", converter = Main.BackendConverter.class,
            description = "Backend (default: from NAME's prefix, else posix).")
    Backend backend;

    SegmentName resolve() {
        return Main.resolve(name, backend);
    }
}
