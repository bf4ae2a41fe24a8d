package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a {@code KeyIndex} (package {@code io.shmkit.internal.index}): a fixed
 * capacity open-addressing hash index from keys to entry numbers, shared by the shared table
 * and the keyed object pools. All offsets are relative to the start of the index's range
 * (8-byte aligned, 64 recommended). The only place these offsets are written down.
 *
 * <pre>
 *  range start
 *  +0    magic          u64  {@link #MAGIC} "SHMKINDX", published last (release) by Formats
 *  +8    format         u32  {@link #FORMAT}
 *  +12   (reserved)     u32
 *  +16   capacity       u64  entries the index accepts (N): entry numbers are 0 .. N-1
 *  +24   slots          u64  bucket words, a power of two &gt; N (load at most 3/4)
 *  +32   size           u64  entries present (written by the writer; recounted by repair)
 *  +40   longest probe  u64  longest probe (slots looked at) of any present entry, an upper bound
 *  +48   (reserved)     2 x u64
 *  +64   delete seq     u64  \  own cache line: even = no delete in progress; odd while a
 *  +72   hole           u64   | delete shifts words back ({@link #HOLE_NONE} or the slot whose
 *  +80   (reserved)           /  content is garbage: the redo point if the writer dies)
 *  +128  bucket[slots]  u64  0 = empty, else tag &lt;&lt; 32 | (entry + 1)
 * </pre>
 *
 * <p>A bucket word's tag is the high 32 bits of the key's 64-bit hash; the home slot is
 * {@code tag & (slots - 1)}, so a word alone tells where its probe starts (backward-shift
 * deletion needs that). The low 32 bits hold the entry number plus one, so no present entry
 * is the empty word 0.
 *
 * <p>Format 2 is the first under the Formats scheme; format 1 had the magic "SHMKIDX1"
 * ({@link #LEGACY_MAGIC_1}) and is refused.
 */
public final class KeyIndexLayout {

    private KeyIndexLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMKINDX");
    public static final int FORMAT = 2;
    /** "SHMKIDX1": format 1, from before the Formats scheme. */
    public static final long LEGACY_MAGIC_1 = Formats.magic("SHMKIDX1");

    /** The header, up to the first bucket. */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("magic"),
            JAVA_INT.withName("format"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("capacity"),
            JAVA_LONG.withName("slots"),
            JAVA_LONG.withName("size"),
            JAVA_LONG.withName("longestProbe"),
            MemoryLayout.paddingLayout(16),
            JAVA_LONG.withName("deleteSeq"),
            JAVA_LONG.withName("hole"),
            MemoryLayout.paddingLayout(48)).withName("KeyIndexHeader");

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT = 8;
    public static final long OFF_CAPACITY = 16;
    public static final long OFF_SLOTS = 24;
    public static final long OFF_SIZE = 32;
    public static final long OFF_LONGEST_PROBE = 40;
    public static final long OFF_DELETE_SEQ = 64;
    public static final long OFF_HOLE = 72;
    public static final long OFF_BUCKETS = 128;
    public static final long HEADER_BYTES = OFF_BUCKETS;

    public static final long BUCKET_BYTES = 8;
    /** The hole field when no delete is in progress. */
    public static final long HOLE_NONE = -1;
    /** Largest capacity: entry + 1 must fit in the 32 low bits, slots in the 32 tag bits. */
    public static final int MAX_CAPACITY = 1 << 30;
    /** Load factor bound: slots &gt;= capacity * 4 / 3 (and always &gt; capacity). */
    public static final int LOAD_NUM = 3;
    public static final int LOAD_DEN = 4;

    static {
        Layouts.check(HEADER, HEADER_BYTES, "magic", OFF_MAGIC, "format", OFF_FORMAT, "capacity", OFF_CAPACITY,
                "slots", OFF_SLOTS, "size", OFF_SIZE, "longestProbe", OFF_LONGEST_PROBE,
                "deleteSeq", OFF_DELETE_SEQ, "hole", OFF_HOLE);
    }

    /** Bucket words for {@code capacity} entries: the smallest power of two &gt;= capacity * 4/3, and &gt; capacity, at least 8. */
    public static long slotsFor(int capacity) {
        long min = Math.max(8, ((long) capacity * LOAD_DEN + LOAD_NUM - 1) / LOAD_NUM);
        if (min <= capacity) {
            min = capacity + 1L;
        }
        return Long.highestOneBit(min - 1) << 1;
    }

    /** Bytes of an index for {@code capacity} entries. */
    public static long bytesNeeded(int capacity) {
        return OFF_BUCKETS + BUCKET_BYTES * slotsFor(capacity);
    }

    /** Offset of bucket {@code slot}. */
    public static long bucket(long slot) {
        return OFF_BUCKETS + BUCKET_BYTES * slot;
    }

    /** The bucket word of {@code entry} with the key hash {@code hash}. */
    public static long word(long hash, int entry) {
        return (hash & 0xFFFF_FFFF_0000_0000L) | ((entry + 1L) & 0xFFFF_FFFFL);
    }

    /** Entry number of a non-empty bucket word. */
    public static int entry(long word) {
        return (int) (word & 0xFFFF_FFFFL) - 1;
    }

    /** Home slot of a hash (or of a bucket word: only its tag is used). */
    public static long home(long hashOrWord, long slots) {
        return (hashOrWord >>> 32) & (slots - 1);
    }
}
