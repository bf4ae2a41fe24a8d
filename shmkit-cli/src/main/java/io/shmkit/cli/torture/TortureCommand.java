package io.shmkit.cli.torture;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/** {@code shmkit torture}: SIGKILL worker JVMs at random moments and check every invariant (docs/RELIABILITY.md). */
@Command(name = "torture", description = "Kill worker JVMs with SIGKILL at random moments and check every invariant.")
public final class TortureCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--kills", defaultValue = "200", description = "Kills to make (default ${DEFAULT-VALUE}).")
    long kills;
    @Option(names = "--workers", defaultValue = "4", description = "Worker JVMs at once (default ${DEFAULT-VALUE}).")
    int workers;
    @Option(names = "--seed", description = "Seed of the schedule (default: random, printed).")
    Long seed;
    @Option(names = "--duration", defaultValue = "3600", description = "Stop after this many seconds (default ${DEFAULT-VALUE}).")
    long durationSeconds;
    @Option(names = "--namespaces", defaultValue = "auto", description = "Run odd workers in fresh pid namespaces: on, off, auto.")
    String namespaces;

    @Override
    public Integer call() throws Exception {
        if (!namespaces.matches("on|off|auto")) {
            throw new IllegalArgumentException("--namespaces must be on, off or auto: " + namespaces);
        }
        long s = seed != null ? seed : new java.util.SplittableRandom().nextLong();
        var out = spec.commandLine().getOut();
        TortureEngine.Result r = new TortureEngine(kills, workers, s, durationSeconds * 1000, namespaces, out).run();
        return r.violations() == 0 ? 0 : 1;
    }
}
