package io.shmkit.sync;

import io.shmkit.internal.OwnerTable;

/**
 * Owner words stored in lock words. Package-private; the identity inside them and the
 * dead-owner test live in {@link OwnerTable}, the one place shmkit decides liveness.
 *
 * <p>An owner word is {@code ownerId << 32 | token << 2 | inconsistent << 1 | waiters}: the
 * owning process's owner id ({@link OwnerTable#id()}: its attach slot and the slot's
 * registration generation, or a random id for memory outside a segment) in the high 32 bits, a
 * per-thread token ({@link Thread#threadId()} modulo 2^30, so stable for the thread's life and
 * unique within the process for the first 2^30 threads it creates) in bits 2..31, the sticky
 * "an owner died, repair pending" flag in bit 1 and a waiters hint in bit 0. A free lock is 0
 * (consistent) or exactly {@link #INCONSISTENT}; keeping the flag in the word lets the
 * uncontended fast path decide everything with its one CAS from 0.
 *
 * <p>The word alone names its owner: there is no separate stamp written after the CAS, so no
 * reader can pair a new owner with an old stamp (the "stale stamp" of format 1). A restarted
 * process that has its predecessor's pid (pid 1 in a new container) has a different
 * registration generation, so it never mistakes its predecessor's lock for its own.
 */
final class Owners {

    private Owners() {
    }

    /** Bit 0 of an owner word: somebody may sleep on the futex, the unlocker must wake. */
    static final long WAITERS = 1L;
    /** Bit 1 of an owner word: an owner died and nobody has marked the data repaired yet. */
    static final long INCONSISTENT = 2L;
    /** Both flag bits. */
    static final long FLAGS = WAITERS | INCONSISTENT;
    /** Token bits of an owner word once shifted down by 2. */
    static final int TOKEN_BITS = 0x3FFF_FFFF;
    /** Bits 2..31 of an owner word: where the token goes. */
    static final long TOKEN_FIELD = 0xFFFF_FFFCL;

    /** The high half of this process's owner words in memory governed by {@code table}. */
    static long base(OwnerTable table) {
        return (long) table.id() << 32;
    }

    /** The owner word of the calling thread (flags clear), given {@link #base}. Allocation free. */
    static long self(long base) {
        return base | ((Thread.currentThread().threadId() << 2) & TOKEN_FIELD);
    }

    static int ownerId(long word) {
        return (int) (word >>> 32);
    }

    static int token(long word) {
        return (int) ((word >>> 2) & TOKEN_BITS);
    }

    /**
     * Slow path: returns null if the owner named by {@code word} may be alive (alive or
     * unknown: fail closed), else a sentence saying why it is dead or why the word is garbage.
     */
    static String deadReason(OwnerTable table, long word) {
        int id = ownerId(word);
        if (id == 0) {
            return "lock word is garbage: owner id 0" + ((word & WAITERS) != 0 ? " with the waiters flag set" : "")
                    + " (no owner recorded)";
        }
        OwnerTable.Verdict v = table.check(id);
        if (!v.dead()) {
            return null;
        }
        return v.reason().startsWith("garbage") ? "lock word is " + v.reason() : v.reason();
    }

    /** Whether the word means "free" (0, or free but inconsistent). */
    static boolean isFree(long word) {
        return (word & ~INCONSISTENT) == 0;
    }

    static String describe(OwnerTable table, long word) {
        if (isFree(word)) {
            return word == 0 ? "free" : "free, inconsistent";
        }
        return "owner " + table.describe(ownerId(word)) + " token=" + token(word)
                + ((word & WAITERS) != 0 ? " waiters" : "") + ((word & INCONSISTENT) != 0 ? " inconsistent" : "");
    }
}
