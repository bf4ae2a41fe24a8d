package io.shmkit.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;

/**
 * The one helper for layout descriptors ({@code *Layout} in this package): each descriptor
 * declares its structure as a {@link GroupLayout} and either derives its {@code OFF_*}
 * constants from it with {@link #offset} or writes them as literals and asserts them with
 * {@link #check}; its size is always asserted with {@link #check}. Both run in the
 * descriptor's static initialiser, so a mismatch stops the class from loading instead of
 * corrupting memory.
 */
public final class Layouts {

    private Layouts() {
    }

    /** Byte offset of field {@code field} of {@code layout}. */
    public static long offset(GroupLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /**
     * Throws unless {@code layout} is {@code bytes} long and each named field is at its declared offset.
     *
     * @param namesAndOffsets pairs of a field name (String) and its declared offset (Long)
     * @throws AssertionError if the size or an offset differs
     */
    public static void check(GroupLayout layout, long bytes, Object... namesAndOffsets) {
        String name = layout.name().orElse(layout.toString());
        if (layout.byteSize() != bytes) {
            throw new AssertionError(name + ": " + layout.byteSize() + " bytes, declared " + bytes);
        }
        for (int i = 0; i < namesAndOffsets.length; i += 2) {
            String field = (String) namesAndOffsets[i];
            long declared = (Long) namesAndOffsets[i + 1];
            long actual = offset(layout, field);
            if (actual != declared) {
                throw new AssertionError(name + "." + field + " is at " + actual + ", declared " + declared);
            }
        }
    }
}
