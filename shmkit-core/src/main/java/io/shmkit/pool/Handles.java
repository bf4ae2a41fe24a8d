package io.shmkit.pool;

/**
 * The 64-bit object handle: {@code type id (8 bits) | generation (28 bits) | slot (28 bits)}.
 * The generation of a slot grows each time it is allocated, so a handle kept after its object
 * was freed no longer matches the slot and is reported stale. Handles survive a restart (they
 * are stored in shared memory by value); {@code 0} is never a valid handle.
 */
public final class Handles {

    private Handles() {
    }

    public static final int SLOT_BITS = 28;
    public static final int GENERATION_BITS = 28;
    public static final long SLOT_MASK = (1L << SLOT_BITS) - 1;
    public static final long GENERATION_MASK = (1L << GENERATION_BITS) - 1;
    /** No object. */
    public static final long NONE = 0;

    public static long of(int type, long slot, long generation) {
        return ((long) type << 56) | ((generation & GENERATION_MASK) << SLOT_BITS) | (slot & SLOT_MASK);
    }

    public static int type(long handle) {
        return (int) (handle >>> 56);
    }

    public static int slot(long handle) {
        return (int) (handle & SLOT_MASK);
    }

    public static long generation(long handle) {
        return (handle >>> SLOT_BITS) & GENERATION_MASK;
    }

    /** The generation after {@code g} (wraps to 1: generation 0 never appears in a handle). */
    static long nextGeneration(long g) {
        long n = (g + 1) & GENERATION_MASK;
        return n == 0 ? 1 : n;
    }

    /** {@code 3:17@2} (type:slot@generation), for messages. */
    public static String toString(long handle) {
        return type(handle) + ":" + slot(handle) + "@" + generation(handle);
    }
}
