package io.shmkit.cli;

import io.shmkit.SegmentNotFoundException;
import io.shmkit.ShmException;
import io.shmkit.ShmPermissionException;
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
        description = {"Remove a segment. Refuses while live processes are attached (or processes whose liveness"
                + " cannot be told, e.g. in another container), unless --force.",
                "With --force it also removes a regular file that is not a usable segment (empty, zeroed, truncated "
                        + "or foreign); it never removes a FIFO, device, socket or directory and never follows a symbolic link."})
final class RmCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SegmentArg segment;

    @Option(names = "--force", description = "Remove even if live processes are attached (they keep their mapping), "
            + "or if it is a regular file that is not a usable segment.")
    boolean force;

    @Override
    public Integer call() {
        SegmentName n = segment.resolve();
        SegmentInfo info;
        try {
            info = Segments.inspect(n); // never blocks: a FIFO is refused at once
        } catch (SegmentNotFoundException | ShmPermissionException e) {
            throw e;
        } catch (ShmException notUsable) {
            if (!force) {
                throw Segments.isRegularFile(n)
                        ? new IllegalStateException(notUsable.getMessage() + "; 'shmkit rm --force' removes it")
                        : notUsable;
            }
            Segments.unlinkAnyRegular(n); // regular files only, links never followed
            spec.commandLine().getOut().println("removed " + n + " (not a usable segment: " + notUsable.getMessage() + ")");
            return 0;
        }
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
