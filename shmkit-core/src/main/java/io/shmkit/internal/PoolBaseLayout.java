package io.shmkit.internal;

/**
 * Binary layout of the object pools' base record: the structure {@code "pools"} reserved in a
 * process section's base segment (the seed's {@code InitBase} data). Offsets are relative to
 * the start of the reserved range (64-byte aligned). The only place these offsets are written.
 *
 * <pre>
 *  +0     magic          u64   {@link #MAGIC_VALUE}, stored last at cold start (release)
 *  +8     format version u32   {@link #FORMAT_VERSION}; a newer one is refused
 *  +12    max types      u32   {@link #MAX_TYPES}
 *  +16    block size     u64   bytes of every data block segment
 *  +24    start time     u64   ms since the epoch of the cold start
 *  +32    epoch          u64   random id of this cold start; every data block records it
 *  +40    block count    u32   entries used in the block table
 *  +44    max chunks     u32   {@link #MAX_CHUNKS}
 *  +48    resume count   u64
 *  +56    last resume    u64   ms since the epoch
 *  +64    owner          64 bytes: the live owner's record (see OwnerRecord)
 *  +128   intent         128 bytes: the allocate/free/grow in progress, or op 0
 *           +0 op u32, +4 type id u32, +8 slot, +16 prev head, +24 prev meta, +32 prev used,
 *           +40 prev high water mark, +48 key, +56 prev next link of the slot,
 *           +64 new meta, +72 prev chunk count, +80 block index, +88 prev block used
 *  +256   undo log header 64 bytes: +0 state u64, +8 used bytes u64, +16 capacity u64,
 *           +24 committed transactions u64, +32 rolled back u64
 *  +320   type directory: 256 x u32, entry index + 1 of type id i, 0 = not registered
 *  +1344  block table: {@link #MAX_BLOCKS} x 128 bytes { index u32, r u32, free u64, used u64,
 *           key text [96] }
 *  +TYPES type table: {@link #MAX_TYPES} x {@link #TYPE_BYTES} (see T_* offsets)
 *  +UNDO  undo log entries (capacity bytes)
 * </pre>
 *
 * <p>A type entry: {@code +0 id u32, +4 field count u32, +8 name[32], +40 record size,
 * +48 record alignment, +56 stride, +64 capacity, +72 slots per chunk, +80 chunk shift u32,
 * +84 keyed u32, +88 free list head (slot or -1), +96 used, +104 high water mark (slots ever
 * handed out), +112 chunk count, +120 index block u32, +128 index offset, +136 index capacity,
 * +192 fields: {@link #MAX_FIELDS} x 64 { name[32], kind[16], offset u64, size u64 },
 * then the chunk table: {@link #MAX_CHUNKS} x u64 (block index << 48 | offset in block)}.
 */
public final class PoolBaseLayout {

    private PoolBaseLayout() {
    }

    /** "SHMKPOL1" as a little-endian long. */
    public static final long MAGIC_VALUE = 0x314C4F504B4D4853L;
    /** 2: key indexes hash long keys with the cheaper KeyHash.hashLong (1 is refused). */
    public static final int FORMAT_VERSION = 2;
    /** Directory kind of the base record. */
    public static final int KIND = 0x0201;
    public static final String STRUCTURE = "pools";

    public static final int MAX_TYPES = 32;
    public static final int MAX_TYPE_ID = 255;
    public static final int MAX_BLOCKS = 256;
    public static final int MAX_FIELDS = 32;
    public static final int MAX_CHUNKS = 512;
    public static final int NAME_BYTES = 32;
    public static final int KIND_BYTES = 16;
    public static final int KEY_BYTES = 96;

    public static final long MAGIC = 0;
    public static final long VERSION = 8;
    public static final long MAX_TYPES_AT = 12;
    public static final long BLOCK_SIZE = 16;
    public static final long START_TIME = 24;
    public static final long EPOCH = 32;
    public static final long BLOCK_COUNT = 40;
    public static final long MAX_CHUNKS_AT = 44;
    public static final long RESUME_COUNT = 48;
    public static final long LAST_RESUME = 56;
    public static final long OWNER = 64;
    public static final long OWNER_BYTES = 64;

    public static final long INTENT = 128;
    public static final long I_OP = 0;
    public static final long I_TYPE = 4;
    public static final long I_SLOT = 8;
    public static final long I_PREV_HEAD = 16;
    public static final long I_PREV_META = 24;
    public static final long I_PREV_USED = 32;
    public static final long I_PREV_HWM = 40;
    public static final long I_KEY = 48;
    public static final long I_PREV_NEXT = 56;
    public static final long I_NEW_META = 64;
    public static final long I_PREV_CHUNKS = 72;
    public static final long I_BLOCK = 80;
    public static final long I_PREV_BLOCK_USED = 88;
    public static final int OP_NONE = 0;
    public static final int OP_ALLOCATE = 1;
    public static final int OP_FREE = 2;
    public static final int OP_GROW = 3;

    public static final long UNDO = 256;
    public static final long U_STATE = 0;
    public static final long U_USED = 8;
    public static final long U_CAPACITY = 16;
    public static final long U_COMMITS = 24;
    public static final long U_ROLLBACKS = 32;
    public static final long TX_IDLE = 0;
    public static final long TX_ACTIVE = 1;
    public static final long TX_COMMITTED = 2;

    public static final long TYPE_DIRECTORY = 320;
    public static final long BLOCK_TABLE = TYPE_DIRECTORY + 4L * (MAX_TYPE_ID + 1);
    public static final long BLOCK_BYTES = 128;
    public static final long B_INDEX = 0;
    public static final long B_FREE = 8;
    public static final long B_USED = 16;
    public static final long B_KEY = 24;

    public static final long TYPES = BLOCK_TABLE + BLOCK_BYTES * MAX_BLOCKS;
    public static final long T_ID = 0;
    public static final long T_FIELD_COUNT = 4;
    public static final long T_NAME = 8;
    public static final long T_RECORD_SIZE = 40;
    public static final long T_RECORD_ALIGN = 48;
    public static final long T_STRIDE = 56;
    public static final long T_CAPACITY = 64;
    public static final long T_SLOTS_PER_CHUNK = 72;
    public static final long T_CHUNK_SHIFT = 80;
    public static final long T_KEYED = 84;
    public static final long T_HEAD = 88;
    public static final long T_USED = 96;
    public static final long T_HWM = 104;
    public static final long T_CHUNK_COUNT = 112;
    public static final long T_INDEX_BLOCK = 120;
    public static final long T_INDEX_OFFSET = 128;
    public static final long T_INDEX_CAPACITY = 136;
    public static final long T_FIELDS = 192;
    public static final long FIELD_BYTES = 64;
    public static final long F_NAME = 0;
    public static final long F_KIND = 32;
    public static final long F_OFFSET = 48;
    public static final long F_SIZE = 56;
    public static final long T_CHUNKS = T_FIELDS + FIELD_BYTES * MAX_FIELDS;
    public static final long TYPE_BYTES = T_CHUNKS + 8L * MAX_CHUNKS;

    public static final long UNDO_ENTRIES = TYPES + TYPE_BYTES * MAX_TYPES;
    /** Default bytes of the undo log. */
    public static final long DEFAULT_UNDO_BYTES = 1L << 20;

    /**
     * Undo entry: +0 kind u32, +4 length u32 (bytes of saved record), +8 handle u64, +16 block
     * index u32, +24 slot offset in block u64, +32 old version u64, +40 saved bytes (padded to 8).
     */
    public static final long E_KIND = 0;
    public static final long E_LENGTH = 4;
    public static final long E_HANDLE = 8;
    public static final long E_BLOCK = 16;
    public static final long E_SLOT_OFFSET = 24;
    public static final long E_OLD_VERSION = 32;
    public static final long E_BYTES = 40;
    public static final int E_KIND_BYTES = 1;
    public static final int E_KIND_ALLOCATED = 2;
    public static final int E_KIND_FREE_AT_COMMIT = 3;

    static {
        if (TYPE_DIRECTORY + 4L * (MAX_TYPE_ID + 1) > BLOCK_TABLE || T_INDEX_CAPACITY + 8 > T_FIELDS
                || INTENT + 128 > UNDO || UNDO + 64 > TYPE_DIRECTORY || B_KEY + KEY_BYTES > BLOCK_BYTES) {
            throw new AssertionError("pool base layout overlap");
        }
    }

    public static long typeEntry(int index) {
        return TYPES + TYPE_BYTES * index;
    }

    public static long blockEntry(int index) {
        return BLOCK_TABLE + BLOCK_BYTES * index;
    }

    public static long field(long typeEntry, int i) {
        return typeEntry + T_FIELDS + FIELD_BYTES * i;
    }

    public static long chunk(long typeEntry, int i) {
        return typeEntry + T_CHUNKS + 8L * i;
    }

    /** Total bytes of the base record with an undo log of {@code undoBytes}. */
    public static long bytesNeeded(long undoBytes) {
        return UNDO_ENTRIES + undoBytes;
    }

    public static long chunkWord(int block, long offset) {
        return ((long) block << 48) | offset;
    }

    public static int chunkBlock(long word) {
        return (int) (word >>> 48);
    }

    public static long chunkOffset(long word) {
        return word & ((1L << 48) - 1);
    }
}
