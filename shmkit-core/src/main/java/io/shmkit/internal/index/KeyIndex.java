package io.shmkit.internal.index;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.KeyIndexLayout;
import io.shmkit.internal.Mem;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

import static io.shmkit.internal.KeyIndexLayout.*;

/**
 * A fixed-capacity open-addressing hash index in shared memory, mapping keys to entry numbers
 * {@code 0 .. capacity-1}: the one index behind {@code SharedTable} and the keyed object pools.
 * The keys live with the entries (a table row, a pool object), not in the index; the index
 * stores, per bucket, a 64-bit word {@code tag << 32 | (entry + 1)} (layout:
 * {@link KeyIndexLayout}) and asks the caller's {@link Matcher} whether an entry holds the key
 * being looked up. Linear probing; the home slot comes from the hash's high 32 bits (the tag).
 *
 * <p><b>Exact capacity.</b> The index has more buckets than entries (at least 4/3 as many), so
 * {@link #insert} of the {@code capacity}-th entry always finds an empty bucket, whatever the
 * hash distribution: even if every key has the same hash, {@code capacity} entries fit. Only
 * {@code size() == capacity()} refuses an insert (returns {@code -1}).
 *
 * <p><b>Writers.</b> {@link #insert}, {@link #removeAt}, {@link #repair}, {@link #findSlot}
 * and {@link #verify} must be called with the caller's writer lock held: one lock (a robust
 * {@code ShmMutex}) that serialises every change of this index in every process. The index
 * does not lock by itself.
 *
 * <p><b>What a concurrent reader ({@link #find}, no lock) sees.</b>
 * <ul>
 *   <li>An insert is published by one release store of the bucket word, after the caller has
 *       written the entry's key (ordinary stores before the release): a reader that finds the
 *       word sees the key. Inserts never move other words.</li>
 *   <li>A delete clears the word and shifts the following words of the cluster back (no
 *       tombstones, so probes stay short after churn). A reader probing meanwhile could miss a
 *       word that is moving, so a delete runs inside a sequence (the delete seq word is odd
 *       during it): a reader that found nothing probes again inside the sequence (read before,
 *       re-read after; again when a delete overlapped). A <em>hit</em> needs no check (the
 *       matcher compared the key itself), so a reader probes once without the sequence first
 *       and reads it only after a miss.</li>
 *   <li>{@code find} returns an entry whose key matched at the time the matcher looked, so the
 *       caller validates the entry itself (a per-entry sequence word) if the entry may be
 *       deleted and reused concurrently. The matcher runs against memory that other processes
 *       write: it must tolerate torn keys (compare, then validate).</li>
 *   <li>If deletes keep overlapping a probe, or the sequence stays odd (the deleting writer is
 *       slow or died), {@code find} gives up after a bounded number of attempts and returns
 *       {@link #UNSETTLED}; the caller then takes the writer lock (which repairs after a dead
 *       writer) and uses {@link #findSlot}. No reader spins forever on a dead writer.</li>
 * </ul>
 *
 * <p><b>Crash consistency.</b> Insert commits with its single release store. A delete records
 * in the header the bucket whose content is garbage (the "hole") before every step of the
 * backward shift, and each step is idempotent, so if the writer dies mid-delete the next writer
 * (told {@code OWNER_DIED} by its lock) calls {@link #repair()}, which completes the delete
 * from the recorded hole, ends the sequence and recounts size and longest probe. Repair reads
 * only the index; it costs one pass over the buckets.
 *
 * <p>Instances are cheap views (memory, offset); each process opens its own.
 */
public final class KeyIndex {

    /** Decides whether entry {@code entry} holds the key being looked up. */
    @FunctionalInterface
    public interface Matcher {
        boolean matches(int entry);
    }

    /** The 64-bit hash of the key entry {@code entry} holds (for {@link #verify}). */
    @FunctionalInterface
    public interface EntryHash {
        long hash(int entry);
    }

    /** {@link #find}: no entry holds the key. */
    public static final int NOT_FOUND = -1;
    /** {@link #find}: deletes kept overlapping the probe or one stayed unfinished; look again under the writer lock. */
    public static final int UNSETTLED = -2;

    /** Probes of a reader that deletes may overlap before it gives up (returns UNSETTLED). */
    private static final int READ_ATTEMPTS = 64;
    /** Spins while the delete seq is odd, per attempt. */
    private static final int ODD_SPINS = 256;

    private final MemorySegment m;
    private final long base;
    private final long buckets; // memory offset of bucket 0
    private final int capacity;
    private final long slots;
    private final long mask;

    private KeyIndex(MemorySegment m, long base) {
        this.m = m;
        this.base = base;
        this.buckets = base + OFF_BUCKETS;
        this.capacity = (int) Mem.getLong(m, base + OFF_CAPACITY);
        this.slots = Mem.getLong(m, base + OFF_SLOTS);
        this.mask = slots - 1;
    }

    /** Bytes an index of {@code capacity} entries needs. */
    public static long bytesNeeded(int capacity) {
        checkCapacity(capacity);
        return KeyIndexLayout.bytesNeeded(capacity);
    }

    /**
     * Initialises an empty index in {@code [offset, offset + length)} of {@code memory}. Nothing
     * may use the range concurrently; the magic is published last.
     *
     * @param zeroed the range is known to be all zero (a fresh reservation): the buckets are not
     *               written, so their pages stay untouched until used
     */
    public static KeyIndex create(MemorySegment memory, long offset, long length, int capacity, boolean zeroed) {
        long need = bytesNeeded(capacity);
        checkRange(memory, offset, length, need);
        if (zeroed) {
            memory.asSlice(offset, HEADER_BYTES).fill((byte) 0);
        } else {
            memory.asSlice(offset, need).fill((byte) 0);
        }
        Mem.setLong(memory, offset + OFF_CAPACITY, capacity);
        Mem.setLong(memory, offset + OFF_SLOTS, slotsFor(capacity));
        Mem.setLong(memory, offset + OFF_HOLE, HOLE_NONE);
        // the magic last (release): an opener that sees it sees the fields above
        Formats.publish(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT);
        return new KeyIndex(memory, offset);
    }

    /**
     * Opens an index created by {@link #create} in this or another process.
     *
     * @throws SegmentCorruptedException  if there is no index at {@code offset} or its fields are inconsistent
     * @throws UnsupportedFormatException if it has another format (or the legacy magic of format 1)
     */
    public static KeyIndex open(MemorySegment memory, long offset, long length) {
        checkRange(memory, offset, length, HEADER_BYTES);
        Formats.check(memory, offset + OFF_MAGIC, MAGIC, offset + OFF_FORMAT, FORMAT, "key index at offset=" + offset,
                LEGACY_MAGIC_1);
        long cap = Mem.getLong(memory, offset + OFF_CAPACITY);
        long slots = Mem.getLong(memory, offset + OFF_SLOTS);
        if (cap < 1 || cap > MAX_CAPACITY || slots != slotsFor((int) cap) || OFF_BUCKETS + BUCKET_BYTES * slots > length) {
            throw new SegmentCorruptedException("key index at offset=" + offset + ": capacity=" + cap + " slots=" + slots
                    + " do not fit its range length=" + length);
        }
        return new KeyIndex(memory, offset);
    }

    private static void checkCapacity(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be in 1.." + MAX_CAPACITY + ": capacity=" + capacity);
        }
    }

    private static void checkRange(MemorySegment memory, long offset, long length, long need) {
        if (offset < 0 || length < need || offset > memory.byteSize() - length || (offset & 7) != 0) {
            throw new IllegalArgumentException("key index range offset=" + offset + " length=" + length + " needs "
                    + need + " bytes, 8-byte aligned, inside memory of size=" + memory.byteSize());
        }
    }

    // ------------------------------------------------------------------ readers (no lock)

    /**
     * Looks a key up without a lock. Calls {@code matcher} for each entry whose bucket tag equals
     * the hash's. Returns the entry the matcher accepted, {@link #NOT_FOUND}, or
     * {@link #UNSETTLED} (see the class comment: look again under the writer lock).
     */
    public int find(long hash, Matcher matcher) {
        // a hit needs no sequence check (the matcher compared the key), so probe first: the hot
        // path reads only buckets, and stays small enough for callers to inline it
        int e = probe(hash, matcher);
        return e >= 0 ? e : findSettled(hash, matcher);
    }

    /**
     * {@link #find} after a first probe found nothing: probes again inside the delete sequence
     * (waiting out an odd one), so that a delete moving words meanwhile cannot make it miss a key.
     */
    private int findSettled(long hash, Matcher matcher) {
        for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
            long seq = Mem.getLongAcquire(m, base + OFF_DELETE_SEQ); // acquire: bucket reads stay after it
            if ((seq & 1) != 0) {
                for (int i = 0; i < ODD_SPINS && (seq & 1) != 0; i++) {
                    Thread.onSpinWait();
                    seq = Mem.getLongAcquire(m, base + OFF_DELETE_SEQ);
                }
                if ((seq & 1) != 0) {
                    continue;
                }
            }
            int e = probe(hash, matcher);
            if (e >= 0) {
                return e;
            }
            VarHandle.loadLoadFence(); // the bucket reads above happen before the sequence re-read
            if (Mem.getLongAcquire(m, base + OFF_DELETE_SEQ) == seq) {
                return NOT_FOUND;
            }
        }
        return UNSETTLED;
    }

    /**
     * One probe without the delete sequence: the entry the matcher accepted, or
     * {@link #NOT_FOUND}, which here is not an answer (a delete may have moved the key past the
     * probe): then call {@link #find}. For hot paths that expect a hit; allocation-free.
     */
    public int probe(long hash, Matcher matcher) {
        long slot = home(hash, slots);
        for (long n = 0; n < slots; n++) {
            long w = Mem.getLongAcquire(m, buckets + BUCKET_BYTES * slot); // acquire: pairs with insert's release
            if (w == 0) {
                return NOT_FOUND;
            }
            if (((w ^ hash) >>> 32) == 0) {
                int e = entry(w);
                if (e >= 0 && e < capacity && matcher.matches(e)) {
                    return e;
                }
            }
            slot = (slot + 1) & mask;
        }
        return NOT_FOUND;
    }

    // ------------------------------------------------------------------ writers (writer lock held)

    /** Under the writer lock: the bucket holding the entry the matcher accepts, or -1. */
    public long findSlot(long hash, Matcher matcher) {
        long slot = home(hash, slots);
        for (long n = 0; n < slots; n++) {
            long w = Mem.getLong(m, buckets + BUCKET_BYTES * slot);
            if (w == 0) {
                return -1;
            }
            if (((w ^ hash) >>> 32) == 0) {
                int e = entry(w);
                if (e >= 0 && e < capacity && matcher.matches(e)) {
                    return slot;
                }
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    /** The entry in bucket {@code slot}, or -1 if the bucket is empty. */
    public int entryAt(long slot) {
        long w = Mem.getLongAcquire(m, buckets + BUCKET_BYTES * (slot & mask));
        return w == 0 ? -1 : entry(w);
    }

    /**
     * Under the writer lock: adds {@code entry} with key hash {@code hash}. The caller has
     * checked that no entry holds the key, and has written the entry's key: this release store
     * publishes it. Returns the bucket used, or -1 if the index already holds {@code capacity}
     * entries.
     */
    public long insert(long hash, int entry) {
        if (entry < 0 || entry >= capacity) {
            throw new IllegalArgumentException("entry must be in 0.." + (capacity - 1) + ": entry=" + entry);
        }
        long size = Mem.getLong(m, base + OFF_SIZE);
        if (Long.compareUnsigned(size, capacity) >= 0) { // one compare: full, or a damaged size
            if (size != capacity) {
                throw corrupt("size=" + size + " outside 0.." + capacity);
            }
            return -1;
        }
        long slot = home(hash, slots);
        long n = 1;
        while (Mem.getLong(m, buckets + BUCKET_BYTES * slot) != 0) { // ends: slots > capacity > size
            slot = (slot + 1) & mask;
            n++;
        }
        // release: the entry's key, written before, is visible to a reader that sees the word
        Mem.setLongRelease(m, buckets + BUCKET_BYTES * slot, word(hash, entry));
        Mem.setLong(m, base + OFF_SIZE, size + 1);
        if (n > Mem.getLong(m, base + OFF_LONGEST_PROBE)) {
            Mem.setLong(m, base + OFF_LONGEST_PROBE, n);
        }
        return slot;
    }

    /**
     * Under the writer lock: removes the word in bucket {@code slot} (from {@link #findSlot} or
     * {@link #insert}) and shifts the rest of its cluster back.
     */
    public void removeAt(long slot) {
        removeAt(slot, Long.MAX_VALUE);
    }

    /** {@link #removeAt} that stops after {@code moves} shift steps, as if the writer died there (tests). */
    void removeAt(long slot, long moves) {
        if (slot < 0 || slot >= slots || Mem.getLong(m, buckets + BUCKET_BYTES * slot) == 0) {
            throw new IllegalArgumentException("bucket " + slot + " holds no entry");
        }
        long seq = Mem.getLong(m, base + OFF_DELETE_SEQ);
        Mem.setLong(m, base + OFF_DELETE_SEQ, seq | 1);
        VarHandle.storeStoreFence(); // readers see the odd sequence before any bucket changes
        Mem.setLong(m, base + OFF_HOLE, slot); // redo point: from here on the delete completes
        if (!shift(slot, moves)) {
            return;
        }
        Mem.setLong(m, base + OFF_SIZE, Mem.getLong(m, base + OFF_SIZE) - 1);
        endDelete();
    }

    /** Backward shift from the hole {@code h}; false if stopped after {@code moves} moves (tests). */
    private boolean shift(long h, long moves) {
        long j = h;
        while (true) {
            j = (j + 1) & mask;
            long w = Mem.getLong(m, buckets + BUCKET_BYTES * j);
            if (w == 0 || j == h) {
                Mem.setLongRelease(m, buckets + BUCKET_BYTES * h, 0L);
                return true;
            }
            long home = KeyIndexLayout.home(w, slots);
            // w may fill the hole when the hole lies on its probe path: home .. j (cyclic)
            if (((j - home) & mask) >= ((j - h) & mask)) {
                if (moves-- == 0) {
                    return false;
                }
                Mem.setLongRelease(m, buckets + BUCKET_BYTES * h, w); // w now at h and j: both find it
                Mem.setLong(m, base + OFF_HOLE, j);      // redo point moves on
                h = j;
            }
        }
    }

    private void endDelete() {
        Mem.setLong(m, base + OFF_HOLE, HOLE_NONE);
        long seq = Mem.getLong(m, base + OFF_DELETE_SEQ);
        // release: the bucket changes are visible to a reader that sees the even sequence
        Mem.setLongRelease(m, base + OFF_DELETE_SEQ, (seq | 1) + 1);
    }

    /** Whether a delete was left unfinished (its writer died): {@link #repair()} is due. */
    public boolean needsRepair() {
        return (Mem.getLong(m, base + OFF_DELETE_SEQ) & 1) != 0
                || Mem.getLong(m, base + OFF_HOLE) != HOLE_NONE;
    }

    /**
     * Under the writer lock, after {@code OWNER_DIED}: completes an unfinished delete, ends its
     * sequence, recounts size and longest probe. Returns what it did, or null if nothing was due
     * but the recount.
     */
    public String repair() {
        String did = null;
        long hole = Mem.getLong(m, base + OFF_HOLE);
        if (hole != HOLE_NONE) {
            if (hole < 0 || hole >= slots) {
                throw new SegmentCorruptedException("key index at offset=" + base + ": hole=" + hole + " outside 0.." + (slots - 1));
            }
            shift(hole, Long.MAX_VALUE);
            did = "completed a delete interrupted at bucket " + hole;
        }
        if ((Mem.getLong(m, base + OFF_DELETE_SEQ) & 1) != 0) {
            did = did == null ? "ended an interrupted delete sequence" : did;
        }
        endDelete();
        long size = 0;
        long longest = 0;
        for (long j = 0; j < slots; j++) {
            long w = Mem.getLong(m, buckets + BUCKET_BYTES * j);
            if (w != 0) {
                size++;
                longest = Math.max(longest, ((j - KeyIndexLayout.home(w, slots)) & mask) + 1);
            }
        }
        Mem.setLong(m, base + OFF_SIZE, size);
        Mem.setLong(m, base + OFF_LONGEST_PROBE, longest);
        return did;
    }

    /**
     * Under the writer lock: checks every invariant and throws {@link SegmentCorruptedException}
     * naming the first broken one: no delete in progress, each entry in range and in at most one
     * bucket, each tag equal to its entry's key hash, each word reachable from its home (no empty
     * bucket on the way), size and longest probe as recorded.
     */
    public void verify(EntryHash hashes) {
        if (needsRepair()) {
            throw corrupt("a delete is in progress or was left unfinished (hole=" + Mem.getLong(m, base + OFF_HOLE) + ")");
        }
        BitSet seen = new BitSet(capacity);
        long size = 0;
        long longest = 0;
        for (long j = 0; j < slots; j++) {
            long w = Mem.getLong(m, buckets + BUCKET_BYTES * j);
            if (w == 0) {
                continue;
            }
            int e = entry(w);
            if (e < 0 || e >= capacity) {
                throw corrupt("bucket " + j + " names entry " + e + ", outside 0.." + (capacity - 1));
            }
            if (seen.get(e)) {
                throw corrupt("entry " + e + " is in two buckets (second: " + j + ")");
            }
            seen.set(e);
            if (((hashes.hash(e) ^ w) >>> 32) != 0) {
                throw corrupt("bucket " + j + ": tag does not match the hash of entry " + e + "'s key");
            }
            long home = KeyIndexLayout.home(w, slots);
            for (long k = home; k != j; k = (k + 1) & mask) {
                if (Mem.getLong(m, buckets + BUCKET_BYTES * k) == 0) {
                    throw corrupt("entry " + e + " in bucket " + j + " is unreachable: bucket " + k + " before it is empty");
                }
            }
            size++;
            longest = Math.max(longest, ((j - home) & mask) + 1);
        }
        long recorded = Mem.getLong(m, base + OFF_SIZE); // all 64 bits: size() narrows to int
        if (size != recorded) {
            throw corrupt("size=" + recorded + " but " + size + " buckets are in use");
        }
        if (longest > longestProbe()) {
            throw corrupt("longest probe recorded " + longestProbe() + " but an entry needs " + longest);
        }
    }

    private SegmentCorruptedException corrupt(String what) {
        return new SegmentCorruptedException("key index at offset=" + base + ": " + what);
    }

    // ------------------------------------------------------------------ inspection

    public int capacity() {
        return capacity;
    }

    /** Number of buckets (a power of two, greater than the capacity). */
    public long slots() {
        return slots;
    }

    /** Entries present (exact under the writer lock; a recent value otherwise). */
    public int size() {
        return (int) Mem.getLongAcquire(m, base + OFF_SIZE);
    }

    /** Upper bound of the buckets any present entry's lookup looks at (recomputed exactly by {@link #repair}). */
    public long longestProbe() {
        return Mem.getLongAcquire(m, base + OFF_LONGEST_PROBE);
    }

    /** The range offset of this index in its memory. */
    public long offset() {
        return base;
    }
}
