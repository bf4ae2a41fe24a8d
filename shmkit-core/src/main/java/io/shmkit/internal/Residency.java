package io.shmkit.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * How much of a mapped range is backed by memory now, from {@code mincore(2)}: one call, one
 * byte per page, no walk of {@code /proc/self/smaps}. Kept apart from {@link Libc} so that the
 * one downcall it needs stays next to its only user.
 */
public final class Residency {

    private static final long PAGE = 4096;
    private static final MethodHandle MINCORE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mincore").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));

    private Residency() {
    }

    /**
     * Bytes of {@code [offset, offset + length)} of {@code m} whose pages are resident (counted
     * in whole pages, clipped to the range), or -1 if the kernel cannot tell.
     */
    public static long residentBytes(MemorySegment m, long offset, long length) {
        if (length <= 0) {
            return 0;
        }
        long start = m.address() + offset;
        long first = start & -PAGE;
        long end = start + length;
        long pages = (end - first + PAGE - 1) / PAGE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment vec = a.allocate(pages);
            int rc = (int) MINCORE.invokeExact(first, pages * PAGE, vec);
            if (rc != 0) {
                return -1;
            }
            long resident = 0;
            for (long i = 0; i < pages; i++) {
                if ((vec.get(ValueLayout.JAVA_BYTE, i) & 1) != 0) {
                    long lo = Math.max(start, first + i * PAGE);
                    long hi = Math.min(end, first + (i + 1) * PAGE);
                    resident += hi - lo;
                }
            }
            return resident;
        } catch (Throwable t) {
            return -1;
        }
    }
}
