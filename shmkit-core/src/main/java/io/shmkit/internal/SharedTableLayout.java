package io.shmkit.internal;

/**
 * Binary layout of a {@code SharedTable} inside its reserved range (64-byte aligned). All
 * offsets are relative to the range start. The only place these offsets are written down.
 *
 * <pre>
 *  range start
 *  +0     magic          u64  {@link #MAGIC} "SHMKTABL", published last (release) by Formats
 *  +8     format         u32  {@link #FORMAT}
 *  +12    columns        u32  number of columns (1..{@link #MAX_COLUMNS})
 *  +16    rows           u64  capacity N: exactly N distinct keys fit
 *  +24    max key length u32
 *  +28    row bytes      u32  bytes per row (multiple of 8)
 *  +32    value bytes    u32  bytes of a row's column area (multiple of 8)
 *  +36    stripes        u32  row lock stripes (power of two); row r uses stripe r &amp; (stripes-1)
 *  +40    seed           u64  key hash seed (random per table)
 *  +48    stripes at     u64  \
 *  +56    index at       u64   | offsets from the range start
 *  +64    rows at        u64  /
 *  +72    name           64 bytes, UTF-8, NUL padded (diagnostics)
 *  +192   writer lock    64 bytes ShmMutex: serialises inserts, deletes and repairs (own line)
 *  +256   high water     u64  \  rows ever handed out (rows at or above it were never used)
 *  +264   free head      s64   | first row of the free list of deleted rows, -1 = none
 *  +272   inserts        u64   | written under the writer lock
 *  +280   deletes        u64   |
 *  +288   repairs        u64  /  dead writers repaired after (writer lock and stripes)
 *  +320   column[64]     64 bytes each ({@link ColumnEntry}):
 *           +0  name     40 bytes UTF-8, NUL padded
 *           +40 type     u32  {@link #TYPE_INT32} .. {@link #TYPE_BYTES}
 *           +44 size     u32  declared size (bytes for string/bytes; 4 or 8 for numbers)
 *           +48 offset   u32  offset in the column area of a row
 *  +4416  stripes[stripes], {@link #stripeBytes} each ({@link Stripe}):
 *           +0   lock    64 bytes ShmMutex (robust)
 *           +64  log row s64  redo log: {@link #LOG_ROW_EMPTY} = empty; r = the image below is row r's new
 *                             column area, complete (the commit point of a multi-word write)
 *           +72  updates u64  updates under this stripe (statistics)
 *           +128 image   value bytes: the new column area of the logged row
 *  ...    key index      (KeyIndexLayout) capacity N
 *  ...    rows[N], row bytes each ({@link Row}):
 *           +0   seq     u64  even = stable; odd while a writer changes the row (seqlock)
 *           +8   key len u32  0 = free row, else 1..max key length
 *           +12  next    s32  free-list link of a free row, -1 = end
 *           +16  key     max key length bytes, padded to 8
 *           +..  columns value bytes
 * </pre>
 *
 * <p>Format 2 is the first under the Formats scheme; format 1 had the magic "SHMKTBL1"
 * ({@link #LEGACY_MAGIC_1}) and is refused.
 *
 * <p>Columns: int32 (4 bytes, 4-aligned), int64 and float64 (8 bytes, 8-aligned), string and
 * bytes (a u32 length, then the declared number of bytes; 4-aligned).
 */
public final class SharedTableLayout {

    public static final long MAGIC = Formats.magic("SHMKTABL");
    public static final int FORMAT = 2;
    /** "SHMKTBL1": format 1, from before the Formats scheme. */
    public static final long LEGACY_MAGIC_1 = Formats.magic("SHMKTBL1");

    public static final long OFF_MAGIC = 0;
    public static final long OFF_FORMAT = 8;
    public static final long OFF_COLUMNS = 12;
    public static final long OFF_ROWS = 16;
    public static final long OFF_MAX_KEY = 24;
    public static final long OFF_ROW_BYTES = 28;
    public static final long OFF_VALUE_BYTES = 32;
    public static final long OFF_STRIPES = 36;
    public static final long OFF_SEED = 40;
    public static final long OFF_STRIPES_AT = 48;
    public static final long OFF_INDEX_AT = 56;
    public static final long OFF_ROWS_AT = 64;
    public static final long OFF_NAME = 72;
    public static final int NAME_BYTES = 64;
    public static final long OFF_WRITER_LOCK = 192;
    public static final long OFF_HIGH_WATER = 256;
    public static final long OFF_FREE_HEAD = 264;
    public static final long OFF_INSERTS = 272;
    public static final long OFF_DELETES = 280;
    public static final long OFF_REPAIRS = 288;
    public static final long OFF_COLUMN_TABLE = 320;
    public static final int MAX_COLUMNS = 64;
    public static final long HEADER_BYTES = OFF_COLUMN_TABLE + MAX_COLUMNS * 64;

    /** One entry of the column table. */
    public static final class ColumnEntry {

        private ColumnEntry() {
        }

        public static final long OFF_NAME = 0;
        public static final int NAME_BYTES = 40;
        public static final long OFF_TYPE = 40;
        public static final long OFF_SIZE = 44;
        public static final long OFF_OFFSET = 48;
        public static final long BYTES = 64;
    }

    public static final int TYPE_INT32 = 1;
    public static final int TYPE_INT64 = 2;
    public static final int TYPE_FLOAT64 = 3;
    public static final int TYPE_STRING = 4;
    public static final int TYPE_BYTES = 5;
    /** Length prefix of string and bytes columns. */
    public static final int LENGTH_PREFIX = 4;

    /** One row lock stripe (its image area follows, {@link #stripeBytes} in all). */
    public static final class Stripe {

        private Stripe() {
        }

        public static final long OFF_LOCK = 0;
        public static final long OFF_LOG_ROW = 64;
        public static final long OFF_UPDATES = 72;
        public static final long OFF_IMAGE = 128;
    }

    /** A stripe's log row when its redo log is empty. */
    public static final long LOG_ROW_EMPTY = -1;
    public static final int MAX_STRIPES = 1024;

    /** One row (key area and column area follow the header words). */
    public static final class Row {

        private Row() {
        }

        public static final long OFF_SEQ = 0;
        public static final long OFF_KEY_LEN = 8;
        public static final long OFF_NEXT = 12;
        public static final long OFF_KEY = 16;
    }

    /** Longest key. */
    public static final int MAX_KEY_LENGTH = 4096;

    private SharedTableLayout() {
    }

    public static long align8(long v) {
        return (v + 7) & -8;
    }

    public static long column(int i) {
        return OFF_COLUMN_TABLE + ColumnEntry.BYTES * i;
    }

    /** Stripes for {@code rows} rows: a power of two, at most {@link #MAX_STRIPES}, at most rows. */
    public static int stripesFor(int rows) {
        return Math.min(MAX_STRIPES, Integer.highestOneBit(Math.max(1, rows)));
    }

    public static long stripeBytes(long valueBytes) {
        return Stripe.OFF_IMAGE + ((valueBytes + 63) & -64);
    }

    public static long rowBytes(int maxKey, long valueBytes) {
        return Row.OFF_KEY + align8(maxKey) + valueBytes;
    }

    public static long stripesAt() {
        return HEADER_BYTES;
    }

    public static long indexAt(int stripes, long valueBytes) {
        return stripesAt() + stripes * stripeBytes(valueBytes);
    }

    public static long rowsAt(int stripes, long valueBytes, long indexBytes) {
        return (indexAt(stripes, valueBytes) + indexBytes + 63) & -64;
    }

    /** Bytes of a table's range. */
    public static long bytesNeeded(int rows, int maxKey, long valueBytes, long indexBytes) {
        int stripes = stripesFor(rows);
        return rowsAt(stripes, valueBytes, indexBytes) + rows * rowBytes(maxKey, valueBytes);
    }
}
