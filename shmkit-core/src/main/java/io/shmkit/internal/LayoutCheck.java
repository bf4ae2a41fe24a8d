package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * Checks a layout descriptor's constants against its {@link StructLayout}: each descriptor
 * keeps its offsets as compile-time constants (so that hot paths and other constants can use
 * them) and asserts in its static initializer that they are where the struct layout puts them.
 */
final class LayoutCheck {

    private LayoutCheck() {
    }

    /**
     * @param namesAndOffsets pairs of a field name (String) and its expected offset (Long)
     * @throws AssertionError if the size or an offset differs
     */
    static void check(StructLayout layout, long bytes, Object... namesAndOffsets) {
        if (layout.byteSize() != bytes) {
            throw new AssertionError(layout.name().orElse("layout") + ": " + layout.byteSize() + " bytes, declared " + bytes);
        }
        for (int i = 0; i < namesAndOffsets.length; i += 2) {
            String field = (String) namesAndOffsets[i];
            long expected = (Long) namesAndOffsets[i + 1];
            long actual = layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
            if (actual != expected) {
                throw new AssertionError(layout.name().orElse("layout") + "." + field + " is at " + actual
                        + ", declared " + expected);
            }
        }
    }
}
