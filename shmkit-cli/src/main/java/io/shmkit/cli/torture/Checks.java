package io.shmkit.cli.torture;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The parent's tally: invariant checks made, violations found, recoveries seen by kind. */
final class Checks {
    private final PrintWriter out;
    /** Workers alive while a check runs (the engine sets it). */
    int liveWorkers;
    long checks;
    long violations;
    final Map<String, Long> recoveries = new LinkedHashMap<>();

    Checks(PrintWriter out) {
        this.out = out;
    }

    PrintWriter out() {
        return out;
    }

    /** One invariant check. */
    void expect(boolean ok, Supplier<String> what) {
        checks++;
        if (!ok) {
            fail(what.get());
        }
    }

    /** {@code verify()} of a structure (or any check that throws when it fails). */
    void verify(String structure, Runnable verify) {
        checks++;
        try {
            verify.run();
        } catch (RuntimeException e) {
            fail(structure + ": verify(): " + e);
        }
    }

    void recovered(String kind, long n) {
        if (n != 0) {
            recoveries.merge(kind, n, Long::sum);
        }
    }

    long totalRecoveries() {
        return recoveries.values().stream().mapToLong(Long::longValue).sum();
    }

    void fail(String what) {
        violations++;
        out.println("torture: VIOLATION " + what);
        out.flush();
    }
}
