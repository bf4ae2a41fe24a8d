package io.shmkit.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Binary layout of a {@code io.shmkit.alloc.RingAllocator}. Offsets are relative to the start of
 * the allocator's range (64-byte aligned).
 *
 * <pre>
 * +0    MAGIC     u64  'SHMKRING', stored last with release (Formats)
 * +8    FORMAT    u32  FORMAT (2)
 * +12   FLAGS     u32  bit 0 = single-threaded
 * +16   CAPACITY  u64  bytes of the data area (multiple of 16)
 * +24   LENGTH    u64  range length
 * +64   LOCK      LOCK_BYTES (128) bytes: the robust ShmMutex (own cache lines)
 * +192  HEAD      u64  virtual position of the oldest block not yet collected
 * +200  TAIL      u64  virtual position one past the newest block (allocation commit word)
 * +256  REQUESTS  u64  allocation requests (advisory after a crash)
 * +264  FAILURES  u64  failed requests
 * +320  DATA      CAPACITY bytes: blocks, back to back, in ring order
 * </pre>
 *
 * Positions are virtual: they only grow, the physical place of position {@code v} is
 * {@code v % CAPACITY}, so {@code TAIL - HEAD} is the number of bytes in the live part of the
 * ring and "empty" and "full" never look alike.
 *
 * <p>Every block starts with a 16-byte header ({@link Block}); block lengths are multiples of 16:
 * <pre>
 * +0   SIZE  u64  block length including this header
 * +8   TAG   u64  TAG_MAGIC(16) &lt;&lt; 48 | state(8) &lt;&lt; 40 | (virtual position &amp; 2^40-1)
 * +16  payload (USED blocks) ...
 * </pre>
 * States: {@code USED}, {@code FREE} (freed, not yet collected), {@code PADDING} (the tail end
 * of the ring skipped at wrap-around, or a gap inserted for a larger alignment). The chain of
 * headers from {@code HEAD} to {@code TAIL} is the source of truth.
 *
 * <p>Format 1 (magic {@code 'SHMRING1'}, a version field at +8) had the same fields; it is
 * refused as unsupported ({@link #LEGACY_MAGICS}).
 */
public final class RingLayout {

    private RingLayout() {
    }

    public static final long MAGIC = Formats.magic("SHMKRING");
    public static final int FORMAT = 2;
    /** Magics of the formats from before the {@link Formats} scheme: {@code 'SHMRING1'}. */
    public static final long[] LEGACY_MAGICS = {0x3147_4E49_524D_4853L};

    public static final int FLAGS_SINGLE_THREADED = 1;

    public static final long LOCK_BYTES = 128;

    /** The structure header, up to the data area. */
    public static final StructLayout HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("magic"),
            JAVA_INT.withName("format"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("capacity"),
            JAVA_LONG.withName("length"),
            MemoryLayout.paddingLayout(32),
            MemoryLayout.paddingLayout(LOCK_BYTES).withName("lock"),
            JAVA_LONG.withName("head"),
            JAVA_LONG.withName("tail"),
            MemoryLayout.paddingLayout(48),
            JAVA_LONG.withName("requests"),
            JAVA_LONG.withName("failures"),
            MemoryLayout.paddingLayout(48));

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT = 8;
    public static final long OFF_FLAGS = 12;
    public static final long OFF_CAPACITY = 16;
    public static final long OFF_LENGTH = 24;
    public static final long OFF_LOCK = 64;
    public static final long OFF_HEAD = 192;
    public static final long OFF_TAIL = 200;
    public static final long OFF_REQUESTS = 256;
    public static final long OFF_FAILURES = 264;
    /** Start of the data area; the header is this long. */
    public static final long OFF_DATA = 320;

    /** A block header, relative to the block's start. */
    public static final class Block {

        private Block() {
        }

        public static final long OFF_SIZE = 0;
        public static final long OFF_TAG = 8;
        public static final long BYTES = 16;
    }

    /** Block lengths (and the capacity) are multiples of this. */
    public static final long BLOCK_UNIT_BYTES = 16;

    public static final long TAG_MAGIC = 0xB10CL;
    public static final long TAG_POS_MASK = (1L << 40) - 1;
    public static final int STATE_USED = 1;
    public static final int STATE_FREE = 2;
    public static final int STATE_PADDING = 3;

    static {
        Layouts.check(HEADER, OFF_DATA, "magic", OFF_MAGIC, "format", OFF_FORMAT, "flags", OFF_FLAGS,
                "capacity", OFF_CAPACITY, "length", OFF_LENGTH, "lock", OFF_LOCK, "head", OFF_HEAD,
                "tail", OFF_TAIL, "requests", OFF_REQUESTS, "failures", OFF_FAILURES);
    }

    public static long tag(int state, long virtualPosition) {
        return TAG_MAGIC << 48 | (long) state << 40 | (virtualPosition & TAG_POS_MASK);
    }

    public static boolean tagMagicOk(long tag) {
        return tag >>> 48 == TAG_MAGIC && ((tag >>> 40) & 0xFF) >= STATE_USED && ((tag >>> 40) & 0xFF) <= STATE_PADDING;
    }

    public static int tagState(long tag) {
        return (int) ((tag >>> 40) & 0xFF);
    }

    public static long tagPosition(long tag) {
        return tag & TAG_POS_MASK;
    }

    public static String stateName(int state) {
        return switch (state) {
            case STATE_USED -> "USED";
            case STATE_FREE -> "FREE";
            case STATE_PADDING -> "PADDING";
            default -> "state=" + state;
        };
    }
}
