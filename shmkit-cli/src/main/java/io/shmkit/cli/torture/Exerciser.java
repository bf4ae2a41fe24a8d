package io.shmkit.cli.torture;

import java.util.List;
import java.util.SplittableRandom;

/**
 * One kind of structure under torture. The same instance plays one of two roles: in the parent
 * it creates the structures and, after every kill, checks every invariant while the dead
 * worker's facts are still; in a worker it attaches, settles what its killed predecessor left
 * in flight, and runs random operations, storing every committed fact in shared memory before
 * the next operation starts.
 */
interface Exerciser {

    /** A short name for the report. */
    String name();

    /** The places a kill can land in (sections, transactions), indexed by place code. */
    List<String> places();

    /** Parent: creates the structures (once, before any worker starts). */
    void create(Env env);

    /** Worker: attaches and settles the operation its predecessor had in flight. */
    void attach(Env env, WorkerContext ctx) throws Exception;

    /** Worker: one random operation. */
    void step(SplittableRandom rnd) throws Exception;

    /** Parent: every invariant, with worker {@code dead} killed and the others running (or all dead). */
    void check(Checks c, int dead) throws Exception;

    /** Parent, at the end: adds the recoveries workers made (counted in shared memory) to the tally. */
    default void summarize(Checks c) {
    }

    /** Parent, at the end: removes whatever lives outside the torture segment. */
    default void cleanup() {
    }
}
