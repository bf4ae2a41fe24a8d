package io.shmkit.cli;

import io.shmkit.segment.SegmentInfo;
import io.shmkit.segment.Segments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "ls", mixinStandardHelpOptions = true,
        description = "List shmkit segments: POSIX (/dev/shm), System V, and file segments in --dir directories.")
final class LsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "One JSON array.")
    boolean json;

    @Option(names = "--dir", paramLabel = "DIR", description = "Also look for file segments in DIR (repeatable).")
    List<Path> dirs = List.of();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<SegmentInfo> all = Segments.list(dirs);
        if (json) {
            out.println(all.stream().map(Json::segment).collect(Collectors.joining(",", "[", "]")));
            return 0;
        }
        if (all.isEmpty()) {
            out.println("no shmkit segments found");
            return 0;
        }
        out.printf("%-40s %-6s %10s %6s %8s %-24s %s%n", "NAME", "BACKEND", "SIZE", "KIND", "CREATOR", "ATTACHED", "CREATED");
        for (SegmentInfo i : all) {
            String attached = i.attached().isEmpty() ? "-" : i.attached().stream()
                    .map(p -> p.pid() + (p.liveness() == io.shmkit.segment.Liveness.ALIVE ? "" : "(" + p.liveness().label() + ")"))
                    .collect(Collectors.joining(","));
            out.printf("%-40s %-6s %10s %6d %8d %-24s %s%n", i.name(), i.name().backend().label(), Sizes.human(i.size()),
                    i.kind(), i.creatorPid(), attached, i.createdAt());
        }
        return 0;
    }
}
