package io.shmkit.internal;

import io.shmkit.internal.SegmentHeader.AttachSlot;
import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.Backend;
import io.shmkit.segment.Liveness;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;

import static io.shmkit.internal.SegmentHeader.ATTACH_SLOTS;
import static io.shmkit.internal.SegmentHeader.attachNamespace;
import static io.shmkit.internal.SegmentHeader.attachSlot;

/**
 * The one owner identity of shmkit and the one answer to "is that owner dead?". Every place
 * that records an owner (mutex and rwlock words, reader slots, allocator thread-cache
 * registries, region slots, the header's grow lock) stores a 32-bit <em>owner id</em> made
 * here and asks {@link #check(int)} about ids it finds.
 *
 * <p><b>Registration.</b> A process attaching a segment claims one slot of the header's attach
 * table. For POSIX and file segments the claim is an open-file-description lock
 * ({@link OfdLock}, {@code F_OFD_SETLK}) on byte {@code 2^62 + slot} of the segment file,
 * taken on the segment's descriptor and held while attached: the kernel drops it when the
 * process dies, in every pid namespace, and nobody can take a held slot. The claimer then bumps
 * the slot's generation and writes its pid, start time and pid namespace as diagnostics. A
 * System V segment has no file: there the claim is a CAS on the slot word and liveness falls
 * back to pid evidence that only counts within the same pid namespace (see {@link #check}).
 * An anonymous segment is private to one process.
 *
 * <p><b>Owner id.</b> {@code 1 << 31 | slot << 24 | generation} (24-bit generation, never 0)
 * for a registered process. A process with no slot (table full, OFD locks refused, or memory
 * outside any segment) uses a random per-process id with bit 31 clear: nobody else can tell
 * whether it lives, so such owners are never taken over (fail closed).
 *
 * <p><b>Liveness</b> of a registered id, in {@link #check}: a slot outside the table or
 * generation 0 is garbage (no such registration can exist); the slot's current generation
 * differs, or it is detached: dead; else the kernel is asked ({@code F_OFD_GETLK}): held by
 * another description: alive; not held: dead; any error: unknown. This process's own id is
 * compared directly (a lock never conflicts with its own description).
 *
 * <p>Thread safety: immutable after {@link #open}, except {@link #release}. The lookup from
 * memory to table ({@link #of}) is for construction time only, never a hot path.
 */
public final class OwnerTable {

    /** Bit 31 of an owner id: a registered (slot, generation) identity. */
    public static final int REGISTERED = 0x8000_0000;
    static final int SLOT_SHIFT = 24;
    static final int SLOT_MASK = 0x7F;
    static final int GEN_MASK = 0xFF_FFFF;
    /** Low half of a PID-mode slot word while its claimer is still writing the diagnostics. */
    static final long CLAIMING = 0x8000_0000L;

    /** This process's identity wherever it has no registration: random, bit 31 clear, never 0. */
    public static final int PROCESS_NONCE = 1 + ThreadLocalRandom.current().nextInt(Integer.MAX_VALUE - 1);

    /** How the liveness of other registrations is established. */
    enum Mode {
        /** OFD lock per slot on the segment file (POSIX, file). */
        OFD,
        /** CAS-claimed slots, pid evidence within one pid namespace (System V). */
        PID,
        /** A segment private to this process (anonymous). */
        LOCAL,
        /** Memory outside any segment: nothing can be told about other owners. */
        NONE
    }

    /** The table used for memory outside any segment. */
    public static final OwnerTable UNREGISTERED = new OwnerTable(null, -1, Mode.NONE, -1, 0, PROCESS_NONCE);

    private static final ConcurrentSkipListMap<Long, Range> RANGES = new ConcurrentSkipListMap<>();

    private record Range(long end, OwnerTable table) {
    }

    private final MemorySegment header;
    private final int fd;
    private final Mode mode;
    private final int slot;
    private final int generation;
    private final int id;

    private OwnerTable(MemorySegment header, int fd, Mode mode, int slot, int generation, int id) {
        this.header = header;
        this.fd = fd;
        this.mode = mode;
        this.slot = slot;
        this.generation = generation;
        this.id = id;
    }

    /**
     * The owner table of a segment being attached: registers this process (unless
     * {@code register} is false: read-only inspection) and returns the table to check others.
     *
     * @param header the segment's memory (at least its header), writable if {@code register}
     * @param fd     the segment file's descriptor (POSIX, file), kept open while attached
     */
    public static OwnerTable open(MemorySegment header, int fd, Backend backend, boolean register) {
        Mode mode = switch (backend) {
            case POSIX, FILE -> fd >= 0 ? Mode.OFD : Mode.NONE;
            case SYSV -> Mode.PID;
            case ANONYMOUS -> Mode.LOCAL;
        };
        if (!register) {
            return new OwnerTable(header, fd, mode, -1, 0, PROCESS_NONCE);
        }
        return mode == Mode.OFD ? registerOfd(header, fd) : registerByCas(header, mode);
    }

    private static OwnerTable registerOfd(MemorySegment m, int fd) {
        for (int i = 0; i < ATTACH_SLOTS; i++) {
            int err = OfdLock.tryLock(fd, i);
            if (err == 0) {
                // the kernel lock is the claim: nobody else writes this slot until we drop it
                long word = Mem.getLongAcquire(m, attachSlot(i) + AttachSlot.OFF_WORD);
                int gen = nextGeneration(word);
                publish(m, i, gen);
                return new OwnerTable(m, fd, Mode.OFD, i, gen, id(i, gen));
            }
            if (err != Libc.EAGAIN && err != Libc.EACCES) {
                break; // OFD locks unavailable here: attach unregistered (our locks fail closed)
            }
        }
        return new OwnerTable(m, fd, Mode.OFD, -1, 0, PROCESS_NONCE); // table full of live processes
    }

    private static OwnerTable registerByCas(MemorySegment m, Mode mode) {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < ATTACH_SLOTS; i++) {
                long at = attachSlot(i) + AttachSlot.OFF_WORD;
                long word = Mem.getLongAcquire(m, at);
                long pid = word & 0xFFFF_FFFFL;
                boolean take = pass == 0 ? pid == 0 : pid != 0 && (pid & CLAIMING) == 0 && slotGone(m, i, word);
                int gen = nextGeneration(word);
                long claiming = ((long) gen << 32) | CLAIMING | Procs.PID;
                if (take && Mem.casLong(m, at, word, claiming)) {
                    Mem.setLong(m, attachSlot(i) + AttachSlot.OFF_START_TIME, Procs.START_TIME);
                    Mem.setLong(m, attachNamespace(i), Procs.PID_NAMESPACE);
                    // release: the diagnostics are visible to whoever sees the published word
                    if (Mem.casLong(m, at, claiming, ((long) gen << 32) | Procs.PID)) {
                        return new OwnerTable(m, -1, mode, i, gen, id(i, gen));
                    }
                }
            }
        }
        return new OwnerTable(m, -1, mode, -1, 0, PROCESS_NONCE);
    }

    /** PID mode: whether the process in slot {@code i} is positively gone (same pid namespace only). */
    private static boolean slotGone(MemorySegment m, int i, long word) {
        long ns = Mem.getLongAcquire(m, attachNamespace(i));
        long start = Mem.getLongAcquire(m, attachSlot(i) + AttachSlot.OFF_START_TIME);
        if (Mem.getLongAcquire(m, attachSlot(i) + AttachSlot.OFF_WORD) != word) {
            return false; // changed meanwhile: look again next time
        }
        return ns != 0 && ns == Procs.PID_NAMESPACE && Procs.isGone((int) word, start);
    }

    private static void publish(MemorySegment m, int i, int gen) {
        Mem.setLong(m, attachSlot(i) + AttachSlot.OFF_START_TIME, Procs.START_TIME);
        Mem.setLong(m, attachNamespace(i), Procs.PID_NAMESPACE);
        // release: the diagnostics above are visible to whoever reads the new generation
        Mem.setLongRelease(m, attachSlot(i) + AttachSlot.OFF_WORD, ((long) gen << 32) | Procs.PID);
    }

    private static int nextGeneration(long slotWord) {
        int gen = ((int) (slotWord >>> 32) + 1) & GEN_MASK;
        return gen == 0 ? 1 : gen;
    }

    private static int id(int slot, int gen) {
        return REGISTERED | (slot << SLOT_SHIFT) | gen;
    }

    /** The slot an owner id names (meaningful only when registered). */
    public static int slotOf(int id) {
        return (id >>> SLOT_SHIFT) & SLOT_MASK;
    }

    /** The generation an owner id names (meaningful only when registered). */
    public static int generationOf(int id) {
        return id & GEN_MASK;
    }

    // ------------------------------------------------------------------ identity

    /** This process's owner id in this table: never 0. */
    public int id() {
        return id;
    }

    /** Whether this process holds a registration here (false: its own locks fail closed for others). */
    public boolean registered() {
        return slot >= 0;
    }

    /** This process's attach slot, -1 if none. */
    public int slot() {
        return slot;
    }

    // ------------------------------------------------------------------ liveness

    /** A liveness answer with the evidence (or the reason it cannot be told). */
    public record Verdict(Liveness liveness, String reason) {

        /** Whether the owner may be taken over: positively dead, or a garbage id. */
        public boolean dead() {
            return liveness == Liveness.DEAD;
        }
    }

    private static final Verdict SELF = new Verdict(Liveness.ALIVE, "this process");

    /**
     * Whether the owner {@code ownerId} still runs. DEAD only on positive evidence (or for an
     * id that no registration can have: garbage); anything that cannot be told is UNKNOWN,
     * which callers treat as alive. Slow path: may make one {@code fcntl} or {@code kill}.
     */
    public Verdict check(int ownerId) {
        if (ownerId == 0) {
            return new Verdict(Liveness.DEAD, "garbage: no owner recorded");
        }
        if (ownerId == id) {
            return SELF;
        }
        if ((ownerId & REGISTERED) == 0) {
            return new Verdict(Liveness.UNKNOWN, "owner id 0x" + Integer.toHexString(ownerId)
                    + " is not registered in an attach table (memory outside a segment, or a process without a slot)");
        }
        if (mode == Mode.NONE) {
            return new Verdict(Liveness.UNKNOWN, "memory outside any segment: no attach table to ask");
        }
        int s = slotOf(ownerId);
        int g = generationOf(ownerId);
        if (s >= ATTACH_SLOTS) {
            return new Verdict(Liveness.DEAD, "garbage: attach slot " + s + " is outside the table (" + ATTACH_SLOTS + " slots)");
        }
        if (g == 0) {
            return new Verdict(Liveness.DEAD, "garbage: generation 0 is never registered (slot " + s + ")");
        }
        if (s == slot) {
            return new Verdict(Liveness.DEAD, "this process now holds attach slot " + s + " (generation " + generation
                    + "): generation " + g + " was an earlier, ended registration");
        }
        long word = Mem.getLongAcquire(header, attachSlot(s) + AttachSlot.OFF_WORD);
        int current = (int) (word >>> 32) & GEN_MASK;
        int pid = (int) (word & 0x7FFF_FFFFL);
        if (current != g) {
            return new Verdict(Liveness.DEAD, "attach slot " + s + " was registered again (generation " + current
                    + "): registration " + g + " ended");
        }
        if (pid == 0) {
            return new Verdict(Liveness.DEAD, "the owner (attach slot " + s + ", generation " + g + ") detached");
        }
        return switch (mode) {
            case OFD -> checkOfd(s, g, pid);
            case PID -> checkPid(s, g, pid, word);
            default -> pid == Procs.PID ? SELF : new Verdict(Liveness.UNKNOWN, "private segment holds a foreign owner");
        };
    }

    private Verdict checkOfd(int s, int g, int pid) {
        int probe = OfdLock.probe(fd, s);
        if (probe == OfdLock.HELD) {
            return new Verdict(Liveness.ALIVE, "attach slot " + s + " is locked by its process (pid " + pid
                    + " in its namespace)");
        }
        if (probe == OfdLock.FREE) {
            // the generation is read again: a new claimer may have taken the slot meanwhile (still a death)
            return new Verdict(Liveness.DEAD, "owner pid " + pid + " (in its pid namespace; attach slot " + s
                    + ", generation " + g + ") is gone: the kernel dropped its registration lock");
        }
        return new Verdict(Liveness.UNKNOWN, "F_OFD_GETLK on attach slot " + s + " failed: " + Libc.strerror(Libc.errno()));
    }

    private Verdict checkPid(int s, int g, int pid, long word) {
        long ns = Mem.getLongAcquire(header, attachNamespace(s));
        long start = Mem.getLongAcquire(header, attachSlot(s) + AttachSlot.OFF_START_TIME);
        if (Mem.getLongAcquire(header, attachSlot(s) + AttachSlot.OFF_WORD) != word) {
            return new Verdict(Liveness.DEAD, "attach slot " + s + " was registered again: registration " + g + " ended");
        }
        if (ns == 0 || ns != Procs.PID_NAMESPACE) {
            return new Verdict(Liveness.UNKNOWN, "owner pid " + pid + " is in another pid namespace (" + ns
                    + "), and a System V segment has no file to hold a liveness lock");
        }
        if (Procs.isGone(pid, start)) {
            return new Verdict(Liveness.DEAD, "owner pid " + pid + " no longer exists (or its pid was reused)");
        }
        return new Verdict(Liveness.ALIVE, "owner pid " + pid + " exists");
    }

    /** The pid recorded by the registration {@code ownerId} names, 0 if unknown. */
    public int pidOf(int ownerId) {
        if (ownerId == id) {
            return Procs.PID;
        }
        if ((ownerId & REGISTERED) == 0 || header == null || slotOf(ownerId) >= ATTACH_SLOTS) {
            return 0;
        }
        long word = Mem.getLongAcquire(header, attachSlot(slotOf(ownerId)) + AttachSlot.OFF_WORD);
        return ((int) (word >>> 32) & GEN_MASK) == generationOf(ownerId) ? (int) (word & 0x7FFF_FFFFL) : 0;
    }

    /** Short description of an owner id for messages: {@code slot=3 gen=17 pid=42}. */
    public String describe(int ownerId) {
        if ((ownerId & REGISTERED) == 0) {
            return ownerId == 0 ? "no owner" : "unregistered owner 0x" + Integer.toHexString(ownerId);
        }
        int pid = pidOf(ownerId);
        return "attach slot=" + slotOf(ownerId) + " gen=" + generationOf(ownerId) + (pid != 0 ? " pid=" + pid : "");
    }

    /** Every registered slot with its diagnostics and liveness (for tools). */
    public List<AttachedProcess> attached() {
        List<AttachedProcess> out = new ArrayList<>();
        for (int i = 0; i < ATTACH_SLOTS; i++) {
            long word = Mem.getLongAcquire(header, attachSlot(i) + AttachSlot.OFF_WORD);
            long pid = word & 0x7FFF_FFFFL;
            if (pid == 0) {
                continue;
            }
            long start = Mem.getLongAcquire(header, attachSlot(i) + AttachSlot.OFF_START_TIME);
            long ns = Mem.getLongAcquire(header, attachNamespace(i));
            int gen = (int) (word >>> 32) & GEN_MASK;
            Liveness l = (word & CLAIMING) != 0 ? Liveness.UNKNOWN : check(id(i, gen == 0 ? 1 : gen)).liveness();
            out.add(new AttachedProcess(pid, start, l, i, ns));
        }
        return out;
    }

    // ------------------------------------------------------------------ memory -> table

    /** Makes {@link #of} find this table for memory in {@code [address, address + length)}. */
    public void cover(long address, long length) {
        RANGES.put(address, new Range(address + length, this));
    }

    /**
     * The owner table of the segment whose mapping contains {@code memory} at {@code offset},
     * or {@link #UNREGISTERED} for memory outside any segment attached by this process.
     * Construction-time lookup (a skip-list search), never on a hot path.
     */
    public static OwnerTable of(MemorySegment memory, long offset) {
        if (!memory.isNative()) {
            return UNREGISTERED;
        }
        long address = memory.address() + offset;
        Map.Entry<Long, Range> e = RANGES.floorEntry(address);
        return e != null && address < e.getValue().end ? e.getValue().table : UNREGISTERED;
    }

    /**
     * Detaches: marks the slot detached (its generation stays, so ids naming it read as dead)
     * and drops the kernel lock. The caller closes the descriptor afterwards.
     */
    public void release() {
        forget();
        if (slot < 0) {
            return;
        }
        Mem.setLong(header, attachSlot(slot) + AttachSlot.OFF_START_TIME, 0L);
        // release: owners reading "detached" see everything this process wrote before
        Mem.setLongRelease(header, attachSlot(slot) + AttachSlot.OFF_WORD, (long) generation << 32);
        if (mode == Mode.OFD) {
            OfdLock.unlock(fd, slot);
        }
    }

    /**
     * Stops {@link #of} from finding this table, without touching the header: for a segment
     * whose file another process truncated below the header (writing there would fault).
     * Closing the descriptor then drops the kernel lock.
     */
    public void forget() {
        RANGES.values().removeIf(r -> r.table == this);
    }
}
