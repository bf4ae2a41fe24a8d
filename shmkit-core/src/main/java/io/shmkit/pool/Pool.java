package io.shmkit.pool;

import io.shmkit.internal.Mem;
import io.shmkit.internal.PoolBaseLayout;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.internal.PoolBlockLayout.Slot;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.shmkit.internal.PoolBlockLayout.STATE_ALLOCATED;

/**
 * The objects of one registered type in a process section's pools: the seed's
 * {@code GetFree*} ({@link #allocate()}), {@code Get*} ({@link #get}), {@code Free*}
 * ({@link #free}), {@code Process*} ({@link #forEach}) and, for keyed types,
 * {@link #find} and {@code ForceGetObj} ({@link #forceGet}).
 *
 * <p><b>Thread safety:</b> any thread of the owner process may call any method. Allocate and
 * free take the pools' lock (they never interleave with a transaction); {@link #get} and
 * {@link #find} take no lock. Writes to an object's fields through the segment {@code get}
 * returns are plain memory writes: make writes that must be atomic, or that readers in
 * other processes must see consistently, inside {@link Pools#atomically}.
 *
 * <p><b>Crash consistency:</b> allocate and free are crash-atomic: after a SIGKILL at any
 * point, the object is either allocated (and reachable by the handle and key the caller was
 * given) or free, never leaked. The interrupted step is rolled back (allocate) or completed
 * (free) on resume from a small intent record, in constant time.
 *
 * <p><b>Stale handles:</b> a handle whose object was freed (or whose slot now holds a newer
 * object) makes {@link #get} and {@link #free} throw {@link StaleHandleException}; it never
 * reaches another object. {@link #isLive} tests without throwing.
 */
public final class Pool {


    final Pools pools;
    final TypeDef def;
    final int id;
    /** Offset of this type's entry in the base memory (changes when a migration swaps entries). */
    long entry;
    final long stride;
    final long recordAt;
    final long recordSize;
    final int shift;
    final long mask;
    final boolean keyed;
    final MemorySegment[] chunkMem = new MemorySegment[PoolBaseLayout.MAX_CHUNKS];
    final long[] chunkBase = new long[PoolBaseLayout.MAX_CHUNKS];
    int[] chunkBlock = new int[PoolBaseLayout.MAX_CHUNKS];
    /**
     * Each attached chunk's own slice of its block, exactly {@link #chunks} long (replaced by a longer copy when a
     * chunk is attached), so that the hot paths' chunk check is the array's own length check.
     */
    MemorySegment[] views = new MemorySegment[0];
    int chunks;
    PoolKeys index;

    /** Slots covered by the attached chunks. */
    long hwmBound() {
        return (long) chunks << shift;
    }

    Pool(Pools pools, TypeDef def, long entry, long stride, int shift) {
        this.pools = pools;
        this.def = def;
        this.id = def.id();
        this.entry = entry;
        this.stride = stride;
        this.keyed = def.keyed();
        this.recordAt = keyed ? Slot.OFF_RECORD_KEYED : Slot.OFF_RECORD_PLAIN;
        this.recordSize = def.layout().byteSize();
        this.shift = shift;
        this.mask = (1L << shift) - 1;
    }

    /** The registration. */
    public TypeDef type() {
        return def;
    }

    /** Objects currently allocated. */
    public long used() {
        return pools.typeLong(this, PoolBaseLayout.TypeEntry.OFF_USED);
    }

    /** The registered capacity. */
    public long capacity() {
        return def.capacity();
    }

    /**
     * Allocates a zeroed object ({@code GetFree*}). Returns its handle, or {@link Handles#NONE}
     * when the type is at capacity or the data blocks are full.
     *
     * @throws IllegalStateException for a keyed type (use {@link #allocate(long)})
     */
    public long allocate() {
        if (keyed) {
            throw new IllegalStateException(def.label() + " is keyed: allocate(key) or forceGet(key)");
        }
        return pools.allocate(this, 0, null);
    }

    /**
     * Allocates a zeroed object with {@code key}. Returns its handle, or {@link Handles#NONE}
     * when full.
     *
     * @throws IllegalStateException if the type is not keyed, or {@code key} exists already
     */
    public long allocate(long key) {
        requireKeyed();
        return pools.allocate(this, key, null);
    }

    /** The object with {@code key}, or {@link Handles#NONE}. Lock-free. */
    public long find(long key) {
        requireKeyed();
        return index.find(key); // a live object holding the key, or NONE
    }

    /**
     * The object with {@code key}; allocates it (zeroed) if absent ({@code ForceGetObj}).
     * Returns {@link Handles#NONE} only when absent and full.
     */
    public long forceGet(long key) {
        long h = find(key);
        return h != Handles.NONE ? h : pools.allocate(this, key, null);
    }

    /** The key of a keyed object. */
    public long key(long handle) {
        requireKeyed();
        get(handle);
        return keyOf(handle);
    }

    private long keyOf(long handle) {
        int slot = Handles.slot(handle);
        return Mem.getLong(chunkMem[slot >>> shift], slotOffset(slot) + Slot.OFF_KEY);
    }

    /**
     * The object's record ({@code Get*}): a segment of exactly the layout's size, to use with
     * the layout's {@code VarHandle}s at base offset 0. No lock, no system call.
     *
     * @throws StaleHandleException if the handle's object was freed or belongs to another type
     */
    public MemorySegment get(long handle) {
        MemorySegment[] v = views;
        int slot = (int) (handle & Handles.SLOT_MASK);
        int c = slot >>> shift;
        if (c >= v.length || (int) (handle >>> 56) != id) {
            throw stale(handle);
        }
        MemorySegment m = v[c];
        long at = (slot & mask) * stride;
        // plain load: the handle reached this thread through a happens-before edge after allocate
        if (Mem.getLong(m, at + Slot.OFF_META) != (((handle >>> Handles.SLOT_BITS) & Handles.GENERATION_MASK) << 8 | STATE_ALLOCATED)) {
            throw stale(handle);
        }
        return m.asSlice(at + recordAt, recordSize);
    }

    /**
     * Offset of the object's record inside {@link #memoryOf} (checked like {@link #get}): for
     * hot paths that use the layout's {@code VarHandle}s without a slice.
     */
    public long offset(long handle) {
        MemorySegment[] v = views;
        int slot = (int) (handle & Handles.SLOT_MASK);
        int c = slot >>> shift;
        if (c >= v.length || (int) (handle >>> 56) != id) {
            throw stale(handle);
        }
        long at = (slot & mask) * stride;
        if (Mem.getLong(v[c], at + Slot.OFF_META) != (((handle >>> Handles.SLOT_BITS) & Handles.GENERATION_MASK) << 8 | STATE_ALLOCATED)) {
            throw stale(handle);
        }
        return at + recordAt;
    }

    /**
     * The memory that holds the object: its chunk of slots, a slice of a data block (not
     * checked: pair it with {@link #offset}, which checks the handle).
     */
    public MemorySegment memoryOf(long handle) {
        return views[(int) (handle & Handles.SLOT_MASK) >>> shift];
    }

    /** Whether the handle names a live object of this type. */
    public boolean isLive(long handle) {
        MemorySegment[] v = views;
        int slot = (int) (handle & Handles.SLOT_MASK);
        int c = slot >>> shift;
        if (c >= v.length || (int) (handle >>> 56) != id) {
            return false;
        }
        long at = (slot & mask) * stride;
        return Mem.getLongAcquire(v[c], at + Slot.OFF_META)
                == (((handle >>> Handles.SLOT_BITS) & Handles.GENERATION_MASK) << 8 | STATE_ALLOCATED);
    }

    /**
     * Frees the object ({@code Free*}); its handle (and key) no longer work.
     *
     * @throws StaleHandleException if it was freed already (double free) or is not of this type
     */
    public void free(long handle) {
        pools.free(this, handle);
    }

    /**
     * Visits every live object ({@code Process*}), in slot order. Takes no lock: objects that
     * other threads allocate or free meanwhile may or may not be visited. Do not allocate or
     * free from the visitor.
     */
    public void forEach(ObjectVisitor visitor) {
        long hwm = pools.typeLong(this, PoolBaseLayout.TypeEntry.OFF_HWM);
        for (long s = 0; s < hwm; s++) {
            MemorySegment m = chunkMem[(int) (s >>> shift)];
            long at = slotOffset(s);
            long meta = Mem.getLongAcquire(m, at + Slot.OFF_META);
            if ((meta & PoolBlockLayout.STATE_MASK) == STATE_ALLOCATED) {
                visitor.visit(Handles.of(id, s, PoolBlockLayout.generation(meta)), m.asSlice(at + recordAt, recordSize));
            }
        }
    }

    /** Visitor of {@link #forEach}. */
    @FunctionalInterface
    public interface ObjectVisitor {
        void visit(long handle, MemorySegment record);
    }

    long slotOffset(long slot) {
        return chunkBase[(int) (slot >>> shift)] + (slot & mask) * stride;
    }

    MemorySegment slotMemory(long slot) {
        return chunkMem[(int) (slot >>> shift)];
    }

    private void requireKeyed() {
        if (!keyed) {
            throw new IllegalStateException(def.label() + " is not keyed");
        }
    }

    StaleHandleException stale(long handle) {
        if (Handles.type(handle) != id) {
            return new StaleHandleException("handle " + Handles.toString(handle) + " is of type " + Handles.type(handle)
                    + ", not " + def.label());
        }
        int slot = Handles.slot(handle);
        if ((slot >>> shift) >= chunks) {
            return new StaleHandleException("handle " + Handles.toString(handle) + " of " + def.label()
                    + " names slot " + slot + ", which was never allocated");
        }
        long meta = Mem.getLongAcquire(slotMemory(slot), slotOffset(slot) + Slot.OFF_META);
        String now = (meta & PoolBlockLayout.STATE_MASK) == STATE_ALLOCATED
                ? "slot " + slot + " now holds generation " + PoolBlockLayout.generation(meta)
                : "slot " + slot + " is free";
        return new StaleHandleException("stale handle " + Handles.toString(handle) + " of " + def.label() + ": " + now);
    }

    @Override
    public String toString() {
        return "Pool[" + def.label() + ", used=" + used() + ", capacity=" + def.capacity() + "]";
    }
}
