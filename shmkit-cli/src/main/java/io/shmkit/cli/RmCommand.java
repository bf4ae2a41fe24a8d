package io.shmkit.cli;

import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentInfo;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.Segments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "rm", mixinStandardHelpOptions = true,
        description = "Remove a segment. Refuses while live processes are attached (or processes whose liveness"
                + " cannot be told, e.g. in another container), unless --force.")
final class RmCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SegmentArg segment;

    @Option(names = "--force", description = "Remove even if live processes are attached (they keep their mapping).")
    boolean force;

    @Override
    public Integer call() {
        SegmentName n = segment.resolve();
        SegmentInfo info = Segments.inspect(n); // not found / not shmkit -> clear error
        // fail closed: an attacher whose liveness cannot be told counts as live
        String live = info.attached().stream().filter(AttachedProcess::alive)
                .map(p -> p.pid() + (p.liveness() == io.shmkit.segment.Liveness.UNKNOWN ? " (unknown)" : ""))
                .collect(Collectors.joining(", "));
        if (!live.isEmpty() && !force) {
            throw new IllegalStateException("segment " + n + " has live attached processes (pid " + live
                    + "); stop them or use --force");
        }
        Segment.unlink(n);
        spec.commandLine().getOut().println("removed " + n + (live.isEmpty() ? "" : " (still mapped by pid " + live + ")"));
        return 0;
    }
}
