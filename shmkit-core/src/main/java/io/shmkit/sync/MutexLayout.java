package io.shmkit.sync;

/**
 * Binary layout of a {@link ShmMutex}: 64 bytes, one cache line, little-endian. The only place
 * these offsets are written down.
 *
 * <pre>
 *  0        8        16       20       24       32                64
 *  +--------+--------+--------+--------+--------+-----------------+
 *  | owner  | (res.) | (res.) | take-  | magic  | reserved (0)    |
 *  | word   |        |        | overs  |        |                 |
 *  +--------+--------+--------+--------+--------+-----------------+
 *  owner word: ownerId &lt;&lt; 32 | token &lt;&lt; 2 | inconsistent &lt;&lt; 1 | waiters
 *              ownerId: the owner's attach-table registration (OwnerTable.id())
 *              free = 0 (consistent) or 2 (inconsistent: an owner died, repair pending)
 *              its low 32 bits (offset 0) are the futex word waiters sleep on
 *  offset 8:   the format 1 "stamp" (pid, start time); unused since format 2
 *  takeovers:  how many times a dead owner's lock was taken over (diagnostics)
 *  magic:      "SHMMUTX2", stored last with release semantics by create(); "SHMMUTX1"
 *              (owner words naming pids) is refused by open()
 * </pre>
 */
final class MutexLayout {

    private MutexLayout() {
    }

    static final long SIZE = 64;
    static final long OFF_WORD = 0;
    static final long OFF_TAKEOVERS = 20;
    static final long OFF_MAGIC = 24;

    /** "SHMMUTX2" as a little-endian long. */
    static final long MAGIC = 0x3258_5455_4D4D_4853L;
    /** "SHMMUTX1": format 1, whose owner words named pids; refused with a clear message. */
    static final long MAGIC_V1 = 0x3158_5455_4D4D_4853L;
}
