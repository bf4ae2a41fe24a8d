package io.shmkit.cli;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** The second JVM of {@code shmkit demo}: attaches by name and answers messages. */
@Command(name = "demo-peer", hidden = true)
final class DemoPeerCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        long pid = ProcessHandle.current().pid();
        try (Segment seg = Segment.open(SegmentName.parse(name))) {
            System.out.printf("[peer pid %d] attached to %s, created by pid %d%n", pid, seg.name(), seg.info().creatorPid());
            System.out.flush();
            DemoMailbox box = new DemoMailbox(seg.memory(), seg.dataOffset());
            for (long seq = 1; ; seq++) {
                String msg = box.await(true, seq, TimeUnit.MINUTES.toNanos(2));
                if (msg.equals("bye")) {
                    box.send(false, seq, "bye");
                    System.out.printf("[peer pid %d] detaching%n", pid);
                    return 0;
                }
                if (msg.equals("ping")) {
                    box.send(false, seq, "pong");
                    continue;
                }
                System.out.printf("[peer pid %d] <- %s%n", pid, msg);
                System.out.flush();
                box.send(false, seq, msg.toUpperCase(Locale.ROOT) + " (" + msg.length() + " bytes, seen by pid " + pid + ")");
            }
        }
    }
}
