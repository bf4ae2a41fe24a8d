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
        description = "Create a segment. NAME is a POSIX name, or posix:NAME, file:PATH, sysv:KEY.")
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

    @Option(names = "--preallocate", description = "Reserve the memory now (fails at once if /dev/shm is full).")
    boolean preallocate;

    @Override
    public Integer call() {
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
        SegmentOptions opts = SegmentOptions.defaults().withMode(m).withHugePages(hp).withPreallocate(preallocate);
        try (Segment s = Segment.create(n, Sizes.parse(size), opts)) {
            spec.commandLine().getOut().printf("created %s size=%d (%s) mode=%04o%s%n", n, s.size(), Sizes.human(s.size()), m,
                    s.hugePages() ? " huge-pages" : "");
        }
        return 0;
    }
}
