package io.shmkit.internal;

import java.lang.foreign.GroupLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Checks that a layout descriptor's {@code OFF_*} and {@code *_BYTES} constants agree with the
 * {@link GroupLayout} it declares; called from the descriptors' static initialisers, so a
 * mismatch stops the class from loading instead of corrupting memory.
 */
public final class Layouts {

    private Layouts() {
    }

    /** Throws unless field {@code name} of {@code layout} is at {@code offset}. */
    public static void require(GroupLayout layout, String name, long offset) {
        long actual = layout.byteOffset(groupElement(name));
        if (actual != offset) {
            throw new ExceptionInInitializerError(layout + ": field " + name + " is at " + actual + ", declared "
                    + offset);
        }
    }

    /** Throws unless {@code layout} is {@code bytes} long. */
    public static void requireSize(GroupLayout layout, long bytes) {
        if (layout.byteSize() != bytes) {
            throw new ExceptionInInitializerError(layout + ": " + layout.byteSize() + " bytes, declared " + bytes);
        }
    }
}
