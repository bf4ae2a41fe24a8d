package io.shmkit.sync;

import io.shmkit.internal.Procs;

/**
 * Owner identities stored in lock words, and the dead-owner test. Package-private.
 *
 * <p>An owner word is {@code pid << 32 | token << 2 | inconsistent << 1 | waiters}: the
 * owning process's pid in the high 32 bits, a per-thread token ({@link Thread#threadId()}
 * modulo 2^30, so stable for the thread's life and unique within the process for the first
 * 2^30 threads it creates) in bits 2..31, the sticky "an owner died, repair pending" flag in
 * bit 1 and a waiters hint in bit 0. A free lock is 0 (consistent) or exactly
 * {@link #INCONSISTENT}; keeping the flag in the word lets the uncontended fast path decide
 * everything with its one CAS from 0.
 *
 * <p>A stamp word is {@code pid << 40 | (startTime & (2^40-1))}: the owning process's pid and
 * its start time (clock ticks since boot, from {@code /proc/<pid>/stat}), written by the owner
 * right after it acquires. Every thread of one process writes the same stamp.
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
    static final long START_MASK = (1L << 40) - 1;
    /** This process's stamp. */
    static final long STAMP = ((long) Procs.PID << 40) | (Procs.START_TIME & START_MASK);
    private static final long PID_PART = (long) Procs.PID << 32;

    /** The owner word of the calling thread (flags clear). Allocation free, no division. */
    static long self() {
        return PID_PART | ((Thread.currentThread().threadId() << 2) & TOKEN_FIELD);
    }

    static int pid(long word) {
        return (int) (word >> 32);
    }

    static int token(long word) {
        return (int) ((word >>> 2) & TOKEN_BITS);
    }

    static int stampPid(long stamp) {
        return (int) (stamp >>> 40);
    }

    /** Why the owner word cannot name a real owner, or null if it is well formed (and not free). */
    static String garbageReason(long word) {
        int pid = pid(word);
        if (pid == 0) {
            return "pid 0" + ((word & WAITERS) != 0 ? " with the waiters flag set" : "") + " (no owner recorded)";
        }
        if (pid < 0) {
            return "negative pid " + pid;
        }
        if (pid >= Procs.PID_MAX) {
            return "pid " + pid + " is not below pid_max=" + Procs.PID_MAX;
        }
        return null;
    }

    /**
     * Slow path: reads {@code /proc}. Returns null if the owner named by {@code word} is alive,
     * else a sentence saying why it counts as dead (or why the word is garbage).
     *
     * @param stamp the stamp word read right after {@code word}
     */
    static String deadReason(long word, long stamp) {
        String garbage = garbageReason(word);
        if (garbage != null) {
            return "lock word is garbage: " + garbage;
        }
        int pid = pid(word);
        if (pid == Procs.PID) {
            return null; // a thread of this very process: alive as far as a process can tell
        }
        long actual = Procs.startTime(pid);
        if (actual < 0) {
            return "owner pid " + pid + " no longer exists";
        }
        if (stampPid(stamp) == pid && (actual & START_MASK) != (stamp & START_MASK)) {
            return "owner pid " + pid + " was reused: recorded start time " + (stamp & START_MASK)
                    + ", running process started at " + actual;
        }
        // Either the stamp matches, or the owner has not published its stamp yet (it does so
        // right after its CAS): then only the pid can be checked, and it exists.
        return null;
    }

    /** Whether the word means "free" (0, or free but inconsistent). */
    static boolean isFree(long word) {
        return (word & ~INCONSISTENT) == 0;
    }

    static String describe(long word) {
        if (isFree(word)) {
            return word == 0 ? "free" : "free, inconsistent";
        }
        return "owner pid=" + pid(word) + " token=" + token(word) + ((word & WAITERS) != 0 ? " waiters" : "")
                + ((word & INCONSISTENT) != 0 ? " inconsistent" : "");
    }
}
