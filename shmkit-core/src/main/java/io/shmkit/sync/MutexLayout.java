package io.shmkit.sync;

/**
 * Binary layout of a {@link ShmMutex}: 64 bytes, one cache line, little-endian. The only place
 * these offsets are written down.
 *
 * <pre>
 *  0        8        16       20       24       32                64
 *  +--------+--------+--------+--------+--------+-----------------+
 *  | owner  | stamp  | (res.) | take-  | magic  | reserved (0)    |
 *  | word   |        |        | overs  |        |                 |
 *  +--------+--------+--------+--------+--------+-----------------+
 *  owner word: pid &lt;&lt; 32 | token &lt;&lt; 2 | inconsistent &lt;&lt; 1 | waiters
 *              free = 0 (consistent) or 2 (inconsistent: an owner died, repair pending)
 *              its low 32 bits (offset 0) are the futex word waiters sleep on
 *  stamp:      pid &lt;&lt; 40 | start time (40 bits) of the owning process
 *  takeovers:  how many times a dead owner's lock was taken over (diagnostics)
 *  magic:      "SHMMUTX1", stored last with release semantics by create()
 * </pre>
 */
final class MutexLayout {

    private MutexLayout() {
    }

    static final long SIZE = 64;
    static final long OFF_WORD = 0;
    static final long OFF_STAMP = 8;
    static final long OFF_TAKEOVERS = 20;
    static final long OFF_MAGIC = 24;

    /** "SHMMUTX1" as a little-endian long. */
    static final long MAGIC = 0x3158_5455_4D4D_4853L;
}
