package io.shmkit.cli.torture;

import io.shmkit.segment.Segment;

/**
 * What an exerciser is given in either role: the torture segment and its name, the number of
 * worker slots, and the fact windows of exerciser number {@code index}.
 */
record Env(Segment segment, String segmentName, int workers, TortureState state, int index) {

    /** The exerciser's run-wide window (its locks, pairs, counters). */
    Facts global() {
        return state.global(index);
    }

    /** The exerciser's window in worker slot {@code w}. */
    Facts worker(int w) {
        return state.worker(w, index);
    }

    /** A name derived from the segment's, unique to this run (for structures of their own segments). */
    String derivedName(String suffix) {
        return segmentName + "-" + suffix;
    }
}
