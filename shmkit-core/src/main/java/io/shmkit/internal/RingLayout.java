package io.shmkit.internal;

/**
 * Binary layout of a {@code io.shmkit.alloc.RingAllocator}. Offsets are relative to the start of the
 * allocator's range (64-byte aligned).
 *
 * <pre>
 * +0    MAGIC     u64  'SHMRING1', stored last with release on create
 * +8    VERSION   u32
 * +12   FLAGS     u32  bit 0 = single-threaded
 * +16   CAPACITY  u64  bytes of the data area (multiple of 16)
 * +24   LENGTH    u64  range length
 * +64   LOCK      LOCK_SIZE (128) bytes: the robust ShmMutex (own cache lines)
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
 * <p>Every block starts with a 16-byte header; block lengths are multiples of 16:
 * <pre>
 * +0   SIZE  u64  block length including this header
 * +8   TAG   u64  TAG_MAGIC(16) &lt;&lt; 48 | state(8) &lt;&lt; 40 | (virtual position &amp; 2^40-1)
 * +16  payload (USED blocks) ...
 * </pre>
 * States: {@code USED}, {@code FREE} (freed, not yet collected), {@code PADDING} (the tail end
 * of the ring skipped at wrap-around, or a gap inserted for a larger alignment). The chain of
 * headers from {@code HEAD} to {@code TAIL} is the source of truth.
 */
public final class RingLayout {

    private RingLayout() {
    }

    public static final long MAGIC_VALUE = 0x3147_4E49_524D_4853L; // "SHMRING1" little-endian
    public static final int VERSION_VALUE = 1;
    public static final int FLAG_SINGLE_THREADED = 1;

    public static final long MAGIC = 0;
    public static final long VERSION = 8;
    public static final long FLAGS = 12;
    public static final long CAPACITY = 16;
    public static final long LENGTH = 24;
    public static final long LOCK = 64;
    public static final long LOCK_SIZE = 128;
    public static final long HEAD = 192;
    public static final long TAIL = 200;
    public static final long REQUESTS = 256;
    public static final long FAILURES = 264;
    public static final long DATA = 320;

    public static final long BLOCK_SIZE = 0;
    public static final long BLOCK_TAG = 8;
    public static final long BLOCK_HEADER = 16;
    public static final long BLOCK_UNIT = 16;

    public static final long TAG_MAGIC = 0xB10CL;
    public static final long POS_MASK = (1L << 40) - 1;
    public static final int USED = 1;
    public static final int FREE = 2;
    public static final int PADDING = 3;

    public static long tag(int state, long virtualPosition) {
        return TAG_MAGIC << 48 | (long) state << 40 | (virtualPosition & POS_MASK);
    }

    public static boolean tagMagicOk(long tag) {
        return tag >>> 48 == TAG_MAGIC && ((tag >>> 40) & 0xFF) >= USED && ((tag >>> 40) & 0xFF) <= PADDING;
    }

    public static int tagState(long tag) {
        return (int) ((tag >>> 40) & 0xFF);
    }

    public static long tagPosition(long tag) {
        return tag & POS_MASK;
    }

    public static String stateName(int state) {
        return switch (state) {
            case USED -> "USED";
            case FREE -> "FREE";
            case PADDING -> "PADDING";
            default -> "state=" + state;
        };
    }
}
