package io.shmkit.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The one memory-access vocabulary of shmkit: every read and write of a shared structure goes
 * through these methods, and each method's name says its memory ordering.
 *
 * <ul>
 *   <li>plain ({@code getLong}, {@code setLong}): no ordering; for fields only the owner of a
 *       lock touches, or values published by a later release store;</li>
 *   <li>opaque ({@code getLongOpaque}): bitwise atomic, no ordering (statistics, progress);</li>
 *   <li>acquire ({@code getLongAcquire}): later reads and writes stay after it; pairs with a
 *       release store of the same word;</li>
 *   <li>release ({@code setLongRelease}, {@code getAndAddLongRelease}): earlier reads and
 *       writes stay before it; the way a structure publishes what it wrote;</li>
 *   <li>volatile ({@code getLongVolatile}, {@code setLongVolatile}): sequentially consistent;</li>
 *   <li>read-modify-write ({@code casLong}, {@code caxLong} = compare-and-exchange,
 *       {@code getAndAddLong}, {@code getAndSetLong}, {@code getAndOrLong}): volatile
 *       semantics.</li>
 * </ul>
 *
 * <p>Offsets are byte offsets into {@code m}, and bounds are checked by the segment. Ordered and
 * read-modify-write accesses must be naturally aligned, as the hardware needs for atomicity: a
 * misaligned offset throws {@link IllegalArgumentException} from the JDK, so a structure checks
 * an offset it read from shared memory before such an access (the damage fuzzers fail on any
 * such JDK error that escapes). Plain accesses use the unaligned layouts: a plain load or store
 * needs no alignment on x86-64 or AArch64, and the JDK's alignment test (an add, an and and a
 * branch per access, plus the registers they hold) made the SlabAllocator thread-cache hit path
 * 7% longer in instructions and about 10% slower.
 *
 * <p>The methods are static and trivially small, so the JIT inlines them. Plain accesses go
 * through {@code MemorySegment.get/set}, the others through the layouts' {@link VarHandle}s:
 * plain get/set through those VarHandles measured twice as slow on a FixedPool single-threaded
 * allocate/free pair (about 30 ns against 15 ns, JDK 25). Byte order is the platform's
 * (little-endian on every platform shmkit runs on), as in every layout descriptor of this
 * package. Bytes have no read-modify-write: the JDK supports none for a byte in a memory segment.
 */
public final class Mem {

    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private Mem() {
    }

    // ---- long --------------------------------------------------------------------------------

    public static long getLong(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
    }

    public static long getLongOpaque(MemorySegment m, long at) {
        return (long) LONG.getOpaque(m, at);
    }

    public static long getLongAcquire(MemorySegment m, long at) {
        return (long) LONG.getAcquire(m, at);
    }

    public static long getLongVolatile(MemorySegment m, long at) {
        return (long) LONG.getVolatile(m, at);
    }

    public static void setLong(MemorySegment m, long at, long value) {
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
    }

    public static void setLongOpaque(MemorySegment m, long at, long value) {
        LONG.setOpaque(m, at, value);
    }

    public static void setLongRelease(MemorySegment m, long at, long value) {
        LONG.setRelease(m, at, value);
    }

    public static void setLongVolatile(MemorySegment m, long at, long value) {
        LONG.setVolatile(m, at, value);
    }

    /** Compare-and-set: true if the word was {@code expected} and is now {@code value}. */
    public static boolean casLong(MemorySegment m, long at, long expected, long value) {
        return LONG.compareAndSet(m, at, expected, value);
    }

    /** Compare-and-exchange: returns the word found (equal to {@code expected} on success). */
    public static long caxLong(MemorySegment m, long at, long expected, long value) {
        return (long) LONG.compareAndExchange(m, at, expected, value);
    }

    public static long getAndAddLong(MemorySegment m, long at, long delta) {
        return (long) LONG.getAndAdd(m, at, delta);
    }

    public static long getAndAddLongRelease(MemorySegment m, long at, long delta) {
        return (long) LONG.getAndAddRelease(m, at, delta);
    }

    public static long getAndSetLong(MemorySegment m, long at, long value) {
        return (long) LONG.getAndSet(m, at, value);
    }

    public static long getAndOrLong(MemorySegment m, long at, long bits) {
        return (long) LONG.getAndBitwiseOr(m, at, bits);
    }

    // ---- int ---------------------------------------------------------------------------------

    public static int getInt(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_INT_UNALIGNED, at);
    }

    public static int getIntOpaque(MemorySegment m, long at) {
        return (int) INT.getOpaque(m, at);
    }

    public static int getIntAcquire(MemorySegment m, long at) {
        return (int) INT.getAcquire(m, at);
    }

    public static int getIntVolatile(MemorySegment m, long at) {
        return (int) INT.getVolatile(m, at);
    }

    public static void setInt(MemorySegment m, long at, int value) {
        m.set(ValueLayout.JAVA_INT_UNALIGNED, at, value);
    }

    public static void setIntRelease(MemorySegment m, long at, int value) {
        INT.setRelease(m, at, value);
    }

    public static void setIntVolatile(MemorySegment m, long at, int value) {
        INT.setVolatile(m, at, value);
    }

    public static boolean casInt(MemorySegment m, long at, int expected, int value) {
        return INT.compareAndSet(m, at, expected, value);
    }

    public static int caxInt(MemorySegment m, long at, int expected, int value) {
        return (int) INT.compareAndExchange(m, at, expected, value);
    }

    public static int getAndAddInt(MemorySegment m, long at, int delta) {
        return (int) INT.getAndAdd(m, at, delta);
    }

    public static int getAndSetInt(MemorySegment m, long at, int value) {
        return (int) INT.getAndSet(m, at, value);
    }

    public static int getAndOrInt(MemorySegment m, long at, int bits) {
        return (int) INT.getAndBitwiseOr(m, at, bits);
    }

    // ---- byte --------------------------------------------------------------------------------

    public static byte getByte(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_BYTE, at);
    }

    public static byte getByteAcquire(MemorySegment m, long at) {
        return (byte) BYTE.getAcquire(m, at);
    }

    public static byte getByteVolatile(MemorySegment m, long at) {
        return (byte) BYTE.getVolatile(m, at);
    }

    public static void setByte(MemorySegment m, long at, byte value) {
        m.set(ValueLayout.JAVA_BYTE, at, value);
    }

    public static void setByteRelease(MemorySegment m, long at, byte value) {
        BYTE.setRelease(m, at, value);
    }

    public static void setByteVolatile(MemorySegment m, long at, byte value) {
        BYTE.setVolatile(m, at, value);
    }
}
