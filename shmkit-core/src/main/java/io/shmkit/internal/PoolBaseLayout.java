package io.shmkit.internal;

/**
 * Binary layout of the object pools' base record: the structure {@code "pools"} reserved in a
 * process section's base segment (the seed's {@code InitBase} data). Offsets are relative to
 * the start of the reserved range (64-byte aligned). The only place these offsets are written.
 *
 * <pre>
 *  +0     magic          u64   {@link #MAGIC}, stored last at cold start (release)
 *  +8     format version u32   {@link #FORMAT}; a newer one is refused
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
 *  +OFF_TYPES type table: {@link #MAX_TYPES} x {@link TypeEntry#BYTES} (see {@link TypeEntry})
 *  +OFF_UNDO_ENTRIES  undo log entries (capacity bytes)
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
    public static final long MAGIC = 0x314C4F504B4D4853L;
    /** 2: key indexes hash long keys with the cheaper KeyHash.hashLong (1 is refused). */
    public static final int FORMAT = 2;
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

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT = 8;
    public static final long OFF_MAX_TYPES = 12;
    public static final long OFF_BLOCK_SIZE = 16;
    public static final long OFF_START_TIME = 24;
    public static final long OFF_EPOCH = 32;
    public static final long OFF_BLOCK_COUNT = 40;
    public static final long OFF_MAX_CHUNKS = 44;
    public static final long OFF_RESUME_COUNT = 48;
    public static final long OFF_LAST_RESUME = 56;
    public static final long OFF_OWNER = 64;
    public static final long OWNER_BYTES = 64;

    public static final long OFF_INTENT = 128;
    public static final int OP_NONE = 0;
    public static final int OP_ALLOCATE = 1;
    public static final int OP_FREE = 2;
    public static final int OP_GROW = 3;

    public static final long OFF_UNDO = 256;
    public static final long TX_IDLE = 0;
    public static final long TX_ACTIVE = 1;
    public static final long TX_COMMITTED = 2;

    public static final long OFF_TYPE_DIRECTORY = 320;
    public static final long OFF_BLOCK_TABLE = OFF_TYPE_DIRECTORY + 4L * (MAX_TYPE_ID + 1);

    public static final long OFF_TYPES = OFF_BLOCK_TABLE + BlockEntry.BYTES * MAX_BLOCKS;

    public static final long OFF_UNDO_ENTRIES = OFF_TYPES + TypeEntry.BYTES * MAX_TYPES;
    /** Default bytes of the undo log. */
    public static final long DEFAULT_UNDO_BYTES = 1L << 20;

    /**
     * Undo entry: +0 kind u32, +4 length u32 (bytes of saved record), +8 handle u64, +16 block
     * index u32, +24 slot offset in block u64, +32 old version u64, +40 saved bytes (padded to 8).
     */

    /** The intent record at OFF_INTENT: the allocate, free or grow in progress, or op OP_NONE. */
    public static final class Intent {

        private Intent() {
        }

        public static final long OFF_OP = 0;
        public static final long OFF_TYPE = 4;
        public static final long OFF_SLOT = 8;
        public static final long OFF_PREV_HEAD = 16;
        public static final long OFF_PREV_META = 24;
        public static final long OFF_PREV_USED = 32;
        public static final long OFF_PREV_HWM = 40;
        public static final long OFF_KEY = 48;
        public static final long OFF_PREV_NEXT = 56;
        public static final long OFF_NEW_META = 64;
        public static final long OFF_PREV_CHUNKS = 72;
        public static final long OFF_BLOCK = 80;
        public static final long OFF_PREV_BLOCK_USED = 88;
    }

    /** The undo log header at OFF_UNDO. */
    public static final class UndoHeader {

        private UndoHeader() {
        }

        public static final long OFF_STATE = 0;
        public static final long OFF_USED = 8;
        public static final long OFF_CAPACITY = 16;
        public static final long OFF_COMMITS = 24;
        public static final long OFF_ROLLBACKS = 32;
    }

    /** An entry of the block table at OFF_BLOCK_TABLE. */
    public static final class BlockEntry {

        private BlockEntry() {
        }

        public static final long BYTES = 128;
        public static final long OFF_INDEX = 0;
        public static final long OFF_FREE = 8;
        public static final long OFF_USED = 16;
        public static final long OFF_KEY = 24;
    }

    /** An entry of the type table at OFF_TYPES. */
    public static final class TypeEntry {

        private TypeEntry() {
        }

        public static final long OFF_ID = 0;
        public static final long OFF_FIELD_COUNT = 4;
        public static final long OFF_NAME = 8;
        public static final long OFF_RECORD_SIZE = 40;
        public static final long OFF_RECORD_ALIGN = 48;
        public static final long OFF_STRIDE = 56;
        public static final long OFF_CAPACITY = 64;
        public static final long OFF_SLOTS_PER_CHUNK = 72;
        public static final long OFF_CHUNK_SHIFT = 80;
        public static final long OFF_KEYED = 84;
        public static final long OFF_HEAD = 88;
        public static final long OFF_USED = 96;
        public static final long OFF_HWM = 104;
        public static final long OFF_CHUNK_COUNT = 112;
        public static final long OFF_INDEX_BLOCK = 120;
        public static final long OFF_INDEX_OFFSET = 128;
        public static final long OFF_INDEX_CAPACITY = 136;
        public static final long OFF_FIELDS = 192;
        public static final long OFF_CHUNKS = OFF_FIELDS + FieldEntry.BYTES * MAX_FIELDS;
        public static final long BYTES = OFF_CHUNKS + 8L * MAX_CHUNKS;
    }

    /** A field of a type entry, at TypeEntry.OFF_FIELDS. */
    public static final class FieldEntry {

        private FieldEntry() {
        }

        public static final long BYTES = 64;
        public static final long OFF_NAME = 0;
        public static final long OFF_KIND = 32;
        public static final long OFF_OFFSET = 48;
        public static final long OFF_SIZE = 56;
    }

    /** An undo log entry, at OFF_UNDO_ENTRIES: saved bytes follow at OFF_SAVED (padded to 8). */
    public static final class UndoEntry {

        private UndoEntry() {
        }

        public static final long OFF_KIND = 0;
        public static final long OFF_LENGTH = 4;
        public static final long OFF_HANDLE = 8;
        public static final long OFF_BLOCK = 16;
        public static final long OFF_SLOT_OFFSET = 24;
        public static final long OFF_OLD_VERSION = 32;
        public static final long OFF_SAVED = 40;
        public static final int KIND_BYTES = 1;
        public static final int KIND_ALLOCATED = 2;
        public static final int KIND_FREE_AT_COMMIT = 3;
    }

    static {
        if (OFF_TYPE_DIRECTORY + 4L * (MAX_TYPE_ID + 1) > OFF_BLOCK_TABLE
                || TypeEntry.OFF_INDEX_CAPACITY + 8 > TypeEntry.OFF_FIELDS
                || OFF_INTENT + 128 > OFF_UNDO || OFF_UNDO + 64 > OFF_TYPE_DIRECTORY
                || BlockEntry.OFF_KEY + KEY_BYTES > BlockEntry.BYTES) {
            throw new AssertionError("pool base layout overlap");
        }
    }

    public static long typeEntry(int index) {
        return OFF_TYPES + TypeEntry.BYTES * index;
    }

    public static long blockEntry(int index) {
        return OFF_BLOCK_TABLE + BlockEntry.BYTES * index;
    }

    public static long field(long typeEntry, int i) {
        return typeEntry + TypeEntry.OFF_FIELDS + FieldEntry.BYTES * i;
    }

    public static long chunk(long typeEntry, int i) {
        return typeEntry + TypeEntry.OFF_CHUNKS + 8L * i;
    }

    /** Total bytes of the base record with an undo log of {@code undoBytes}. */
    public static long bytesNeeded(long undoBytes) {
        return OFF_UNDO_ENTRIES + undoBytes;
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
