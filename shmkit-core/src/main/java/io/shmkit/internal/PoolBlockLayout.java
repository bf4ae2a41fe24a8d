package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a pool data block segment and of the object slots inside it. A data block
 * is a whole segment (one {@code ShmKey} of {@code memorypool.ini}); its structure
 * {@code "pool-block"} starts at the segment's data offset and holds a small header, then the
 * chunks of slots handed to types (bump-allocated, recorded in the base's block table).
 *
 * <pre>
 *  block record (64 bytes at the start of the reserved range)
 *  +0   magic        u64  {@link #MAGIC} "SHMKPBLK", published last (release) by Formats
 *  +8   epoch        u64  the base's cold-start epoch: a block of another base is foreign
 *  +16  block index  u32
 *  +20  format       u32  {@link #FORMAT}
 *  +24  (reserved)
 *
 *  slot (stride bytes, the first at a 64-byte aligned chunk start): {@link Slot}
 *  +0   meta     u64  generation &lt;&lt; 8 | state ({@link #STATE_FREE} or {@link #STATE_ALLOCATED})
 *  +8   version  u64  even = stable; odd while a transaction writes the object
 *  +16  key      u64  keyed types only: the object's key (record starts at +32)
 *  +16/+32 record     the registered MemoryLayout; while free, its first 8 bytes link the
 *                     free list (next slot or -1)
 * </pre>
 *
 * <p>A slot's meta word is the source of truth for "is this object allocated"; a handle is
 * valid exactly when its generation and the meta word's generation agree and the state is
 * {@link #STATE_ALLOCATED}.
 *
 * <p>Format 2 is the first under the Formats scheme; format 1 had the magic "SHMKPBK1"
 * ({@link #LEGACY_MAGIC_1}) and is refused.
 */
public final class PoolBlockLayout {

    private PoolBlockLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMKPBLK");
    public static final int FORMAT = 2;
    /** "SHMKPBK1": format 1, from before the Formats scheme. */
    public static final long LEGACY_MAGIC_1 = Formats.magic("SHMKPBK1");
    public static final int KIND = 0x0202;
    public static final String STRUCTURE = "pool-block";

    /** The block record. */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("magic"),
            JAVA_LONG.withName("epoch"),
            JAVA_INT.withName("index"),
            JAVA_INT.withName("format"),
            MemoryLayout.paddingLayout(40)).withName("PoolBlockHeader");

    public static final long OFF_MAGIC = 0;
    public static final long OFF_EPOCH = 8;
    public static final long OFF_INDEX = 16;
    public static final long OFF_FORMAT = 20;
    public static final long HEADER_BYTES = 64;

    /** One object slot (stride bytes: the header words, then the record). */
    public static final class Slot {

        private Slot() {
        }

        public static final long OFF_META = 0;
        public static final long OFF_VERSION = 8;
        public static final long OFF_KEY = 16;
        /** Where the record starts in a slot of a type without keys. */
        public static final long OFF_RECORD_PLAIN = 16;
        /** Where the record starts in a slot of a keyed type. */
        public static final long OFF_RECORD_KEYED = 32;
    }

    public static final long STATE_FREE = 1;
    public static final long STATE_ALLOCATED = 2;
    /** The state bits of a meta word. */
    public static final long STATE_MASK = 0xFF;

    static {
        Layouts.check(HEADER, HEADER_BYTES, "epoch", OFF_EPOCH, "index", OFF_INDEX, "format", OFF_FORMAT);
    }

    public static long meta(long generation, long state) {
        return (generation << 8) | state;
    }

    public static long generation(long meta) {
        return meta >>> 8;
    }

    /** Slot stride for a record of {@code size} bytes aligned to {@code align} (at most 16). */
    public static long stride(long size, long align, boolean keyed) {
        long header = keyed ? Slot.OFF_RECORD_KEYED : Slot.OFF_RECORD_PLAIN;
        long unit = Math.max(8, align);
        long s = header + Math.max(8, size);
        return (s + unit - 1) / unit * unit;
    }
}
