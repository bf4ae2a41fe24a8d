package io.shmkit.cli.torture;

/**
 * A worker's view of its slot: which place it is in now (so the parent can tell where a kill
 * landed) and the violations it sees.
 */
final class WorkerContext {
    final int slot;
    private final TortureState state;
    private final Facts header;

    WorkerContext(TortureState state, int slot) {
        this.state = state;
        this.slot = slot;
        this.header = state.worker(slot);
    }

    /** Marks that the worker is in place {@code place} of exerciser {@code exerciser} from now on. */
    void enter(int exerciser, int place) {
        header.set(TortureState.W_PLACE, exerciser * 16L + place + 1);
    }

    /** Marks that the worker is between operations. */
    void leave() {
        header.set(TortureState.W_PLACE, 0);
    }

    void operationDone() {
        header.add(TortureState.W_OPS, 1);
    }

    void violation(String what) {
        state.run.add(TortureState.OFF_VIOLATIONS, 1);
        System.err.println("torture-worker " + slot + ": VIOLATION " + what);
        System.err.flush();
    }
}
