package io.shmkit.cli;

import io.shmkit.alloc.StructureKind;
import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.SegmentInfo;
import io.shmkit.segment.Segments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Show every header field of a segment.")
final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SegmentArg segment;

    @Option(names = "--json", description = "JSON object.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        SegmentInfo i = Segments.inspect(segment.resolve());
        if (json) {
            out.println(Json.segment(i));
            return 0;
        }
        out.printf("name:              %s%n", i.name());
        out.printf("backend:           %s%n", i.name().backend().label());
        out.printf("format version:    %d%n", i.formatVersion());
        out.printf("structure kind:    %d%n", i.kind());
        out.printf("layout hash:       0x%016x%n", i.layoutHash());
        out.printf("size:              %d (%s)%n", i.size(), Sizes.human(i.size()));
        out.printf("backing size:      %d%n", i.backingSize());
        out.printf("resize generation: %d%n", i.resizeGeneration());
        out.printf("creator:           pid %d (start time %d)%n", i.creatorPid(), i.creatorStartTime());
        out.printf("created at:        %s%n", i.createdAt());
        out.printf("mode:              %04o%n", i.mode());
        out.printf("data offset:       %d%n", i.dataOffset());
        out.printf("reserved up to:    %d (%s free)%n", i.carveTop(), Sizes.human(i.size() - i.carveTop()));
        long unknown = i.attached().stream().filter(p -> p.liveness() == io.shmkit.segment.Liveness.UNKNOWN).count();
        out.printf("attached:          %d live, %d dead%s%n", i.liveAttachments(), i.deadAttachments(),
                unknown == 0 ? "" : " (" + unknown + " of the live unknown: cannot be told, counted as live)");
        for (AttachedProcess p : i.attached()) {
            out.printf("  pid %-8d start %-12d slot %-3d pidns %-12d %s%n", p.pid(), p.startTime(), p.slot(),
                    p.pidNamespace(), p.liveness() == io.shmkit.segment.Liveness.DEAD ? "DEAD" : p.liveness().label());
        }
        out.printf("structures:        %d%n", i.directory().size());
        for (DirectoryEntry e : i.directory()) {
            out.printf("  %-32s %-10s kind=0x%04x offset=%d length=%d%n", e.name(),
                    StructureKind.of(e.kind()).map(StructureKind::label).orElse("-"), e.kind(), e.offset(), e.length());
        }
        return 0;
    }
}
