package io.shmkit.cli;

import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Starts a second JVM that attaches to a fresh segment by name, and shows the two exchanging
 * messages through it, then measures the round trip. Removes the segment and the peer at the end.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Hot restart of a game zone: a worker JVM is SIGKILLed and resumes with every player intact "
                + "(--ipc: two JVMs exchanging data through a fresh segment).")
final class DemoCommand implements Callable<Integer> {

    static final long TIMEOUT = TimeUnit.SECONDS.toNanos(30);

    @Spec
    CommandSpec spec;

    @Option(names = "--round-trips", defaultValue = "20000", description = "Ping-pong round trips to time (default: ${DEFAULT-VALUE}).")
    int roundTrips;

    @Option(names = "--ipc", description = "Run the two-JVM mailbox demo instead of the hot-restart demo.")
    boolean ipc;

    @Option(names = "--kills", defaultValue = "4", description = "SIGKILLs of the zone worker (default: ${DEFAULT-VALUE}).")
    int kills;

    @Override
    public Integer call() throws Exception {
        if (!ipc) {
            return new HotRestartDemo(spec.commandLine().getOut(), kills).run();
        }
        PrintWriter out = spec.commandLine().getOut();
        long pid = ProcessHandle.current().pid();
        SegmentName name = SegmentName.posix("shmkit-demo-" + pid + "-" + Long.toHexString(System.nanoTime() & 0xFFFFFF));
        Process peer = null;
        try (Segment seg = Segment.create(name, 64 * 1024)) {
            out.printf("[main pid %d] created %s (%s), header validated, data at offset %d%n", pid, name,
                    Sizes.human(seg.size()), seg.dataOffset());
            DemoMailbox box = new DemoMailbox(seg.memory(), seg.dataOffset());
            peer = startPeer(name);
            out.printf("[main pid %d] started a second JVM, pid %d; it attaches by name%n", pid, peer.pid());
            out.flush();

            String[] words = {"hello from the first JVM", "offsets, never addresses", "shared memory needs no copy"};
            long seq = 0;
            for (String w : words) {
                seq++;
                out.printf("[main pid %d] -> %s%n", pid, w);
                out.flush();
                box.send(true, seq, w);
                String reply = box.await(false, seq, TIMEOUT);
                out.printf("[main pid %d] <- %s%n", pid, reply);
            }
            out.printf("[main pid %d] attached processes (from the segment header):%n", pid);
            for (AttachedProcess p : seg.attached()) {
                out.printf("    pid %-8d %s%s%n", p.pid(), p.alive() ? "alive" : "dead", p.pid() == pid ? " (main)" : " (peer)");
            }
            long[] rtt = new long[Math.max(1, roundTrips)];
            for (int i = 0; i < rtt.length; i++) {
                seq++;
                long t0 = System.nanoTime();
                box.send(true, seq, "ping");
                box.await(false, seq, TIMEOUT);
                rtt[i] = System.nanoTime() - t0;
            }
            Arrays.sort(rtt);
            out.printf("[main pid %d] %d ping-pong round trips through shared memory: median %.1f us, p99 %.1f us%n",
                    pid, rtt.length, rtt[rtt.length / 2] / 1000.0, rtt[(int) (rtt.length * 0.99)] / 1000.0);
            seq++;
            box.send(true, seq, "bye");
            box.await(false, seq, TIMEOUT);
            if (!peer.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("demo peer pid " + peer.pid() + " did not exit");
            }
            out.printf("[main pid %d] peer exited with status %d; removing %s%n", pid, peer.exitValue(), name);
            return peer.exitValue() == 0 ? 0 : 1;
        } finally {
            if (peer != null && peer.isAlive()) {
                peer.destroyForcibly();
                peer.waitFor(10, TimeUnit.SECONDS);
            }
            Segment.unlink(name);
            out.flush();
        }
    }

    private static Process startPeer(SegmentName name) throws java.io.IOException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo-peer", name.toString()));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
