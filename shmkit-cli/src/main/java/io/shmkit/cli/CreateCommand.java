package io.shmkit.cli;

import io.shmkit.segment.HugePages;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.SegmentOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create a segment. NAME is a POSIX name, or posix:NAME, file:PATH, sysv:KEY.",
                "The memory is reserved now (posix_fallocate): a size the file system cannot hold fails here, in one line."})
final class CreateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SegmentArg segment;

    @Option(names = "--size", required = true, paramLabel = "SIZE", description = "Total size, header included: 64k, 16m, 1g ...")
    String size;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", description = "Octal permission bits (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--huge-pages", paramLabel = "off|prefer|require", defaultValue = "off",
            description = "Huge page policy (default: ${DEFAULT-VALUE}).")
    String hugePages;

    @Option(names = "--preallocate", hidden = true, description = "The default: the memory is reserved at creation.")
    boolean preallocate;

    @Option(names = "--sparse", description = "Do not reserve the memory now (it is taken on first touch). RISK: if the "
            + "file system fills up, the first write to a page without memory raises SIGBUS, an InternalError in the JVM.")
    boolean sparse;

    @Override
    public Integer call() {
        if (sparse && preallocate) {
            throw new IllegalArgumentException("--sparse and --preallocate contradict each other");
        }
        SegmentName n = segment.resolve();
        int m;
        try {
            m = Integer.parseInt(mode, 8);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid mode: '" + mode + "' (expected octal, e.g. 600)");
        }
        HugePages hp = switch (hugePages.toLowerCase(java.util.Locale.ROOT)) {
            case "off" -> HugePages.OFF;
            case "prefer" -> HugePages.PREFER;
            case "require" -> HugePages.REQUIRE;
            default -> throw new IllegalArgumentException("invalid --huge-pages: '" + hugePages + "' (off, prefer, require)");
        };
        SegmentOptions opts = SegmentOptions.defaults().withMode(m).withHugePages(hp).withSparse(sparse);
        try (Segment s = Segment.create(n, Sizes.parse(size), opts)) {
            spec.commandLine().getOut().printf("created %s size=%d (%s) mode=%04o%s%n", n, s.size(), Sizes.human(s.size()), m,
                    s.hugePages() ? " huge-pages" : "");
        }
        return 0;
    }
}
