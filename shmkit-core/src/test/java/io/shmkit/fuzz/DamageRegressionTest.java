package io.shmkit.fuzz;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.ShmException;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.RingAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.internal.MutexLayout;
import io.shmkit.internal.KeyIndexLayout;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.internal.SharedTableLayout;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.sync.ShmMutex;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Escapes the damage fuzzer ({@link DamagedImageFuzzer}) found, one test each. */
class DamageRegressionTest {

    /** "SHMMUTX2": a robust mutex's magic, 24 bytes after its owner word. */

    private final Segment seg = Segment.create(SegmentName.posix(TestNames.unique("dmgreg")), 1 << 20);

    @AfterEach
    void unlink() {
        seg.closeAndUnlink();
    }

    /** The owner word of the calling thread, read while it holds a scratch mutex. */
    private long ownerWordOfCallingThread() {
        long at = seg.reserve("scratch", 0x7F01, 64, 64).offset();
        ShmMutex m = ShmMutex.create(seg.memory(), at);
        m.lock();
        long word = seg.memory().get(ValueLayout.JAVA_LONG, at);
        m.unlock();
        return word;
    }

    /** The first robust mutex in a structure's first 512 bytes (found by its magic, not by a layout). */
    private long lockWordOf(String name) {
        DirectoryEntry e = seg.lookup(name).orElseThrow();
        MemorySegment m = seg.memory();
        for (long off = e.offset(); off < e.offset() + 512; off += 8) {
            if (m.get(ValueLayout.JAVA_LONG, off + MutexLayout.OFF_MAGIC) == MutexLayout.MAGIC) {
                return off;
            }
        }
        throw new AssertionError("no mutex in " + name);
    }

    /**
     * Found by the fuzzer: an allocator's lock word overwritten to name the calling thread made
     * every call throw the mutex's IllegalStateException ("not reentrant"), which allocators do
     * not document. No allocator holds its lock between calls: it is corruption.
     */
    @Test
    void aLockWordNamingTheCallingThreadIsReportedAsCorruption() {
        long self = ownerWordOfCallingThread();
        FixedPool pool = FixedPool.create(seg, "p", 48, 64, 8, SyncMode.LOCKED);
        long kept = pool.allocate(16);
        seg.memory().set(ValueLayout.JAVA_LONG, lockWordOf("p"), self);
        assertThatThrownBy(() -> pool.allocate(16)).isInstanceOf(SegmentCorruptedException.class)
                .hasMessageContaining("names the calling thread");
        assertThatThrownBy(() -> FixedPool.open(seg, "p").free(kept)).isInstanceOf(SegmentCorruptedException.class);
    }

    /**
     * Found by the long fuzz run (input {@code crash-0352dca3…}): the same for the shared table.
     * A stripe lock word naming the calling thread made {@code incr} throw the mutex's
     * IllegalStateException. The table holds none of its locks between calls either: the
     * writer lock and every stripe lock report it as corruption, and nothing is lost once the
     * word is restored.
     */
    @Test
    void aTableLockWordNamingTheCallingThreadIsReportedAsCorruption() {
        long self = ownerWordOfCallingThread();
        TableSchema schema = TableSchema.builder(16).int64("n").build();
        SharedTable t = SharedTable.create(seg, "t", schema, 4);
        t.incr("a", "n", 5);
        long base = seg.lookup("t").orElseThrow().offset();
        long stripe0 = base + SharedTableLayout.stripesAt() + SharedTableLayout.Stripe.OFF_LOCK;
        for (long word : new long[]{base + SharedTableLayout.OFF_WRITER_LOCK, stripe0}) {
            long good = seg.memory().get(ValueLayout.JAVA_LONG, word);
            seg.memory().set(ValueLayout.JAVA_LONG, word, self);
            assertThatThrownBy(() -> {
                for (int i = 0; i < 4; i++) { // a new key takes the writer lock; every row's stripe is reached
                    t.incr("k" + i, "n", 1);
                    t.incr("a", "n", 1);
                }
            }).as("lock word at +" + (word - base)).isInstanceOf(SegmentCorruptedException.class)
                    .hasMessageContaining("names the calling thread");
            seg.memory().set(ValueLayout.JAVA_LONG, word, good);
        }
        t.verify();
        assertThat(t.getLong("a", "n", -1)).isGreaterThanOrEqualTo(5);
    }

    /**
     * Found by the fuzzer: a directory entry whose offset was overwritten with a negative
     * number reached the JDK's bounds check (IndexOutOfBoundsException) while open waited for
     * the structure's magic; one not a multiple of 8 reached the JDK's alignment check
     * (IllegalArgumentException from a VarHandle). Now open refuses both with its range check.
     */
    @Test
    void aDirectoryEntryWithANegativeOffsetIsRefusedCleanly() {
        RingAllocator.create(seg, "r", 8192);
        int index = seg.directory().stream().map(DirectoryEntry::name).toList().indexOf("r");
        long entry = SegmentHeader.OFF_DIRECTORY + (long) index * SegmentHeader.DirectoryRecord.BYTES;
        for (long bad : new long[]{Long.MIN_VALUE, -64, Long.MAX_VALUE - 4, 9, 4100}) {
            seg.memory().set(ValueLayout.JAVA_LONG, entry + SegmentHeader.DirectoryRecord.OFF_OFFSET, bad);
            Throwable t = catchThrowable(() -> RingAllocator.open(seg, "r"));
            assertThat(t).as("offset " + bad).isNotNull();
            assertThat(t instanceof ShmException || t instanceof IllegalArgumentException).as(t.toString()).isTrue();
            assertThat(t.getStackTrace()[0].getClassName()).startsWith("io.shmkit.");
        }
    }

    /** A table of 32 rows with 13 live keys (the fuzz fixture's shape); returns its key index offset. */
    private long tableWith13Keys() {
        SharedTable t = SharedTable.create(seg, "t", TableSchema.builder(16).int64("score").build(), 32);
        for (int i = 0; i < 20; i++) {
            t.setLong("k" + i, "score", i);
        }
        for (int i = 0; i < 20; i += 3) {
            t.delete("k" + i);
        }
        long at = seg.lookup("t").orElseThrow().offset();
        return at + seg.memory().get(ValueLayout.JAVA_LONG, at + SharedTableLayout.OFF_INDEX_AT);
    }

    /**
     * Found by the fuzzer (crash-5dd8ecd1...): the key index's size word with high bits set
     * passed verify() (which compared it narrowed to an int), then the index's insert, which
     * reads all 64 bits, saw it full and returned -1, which the table ignored: setLong answered
     * INSERTED and getLong found no row. Now verify() compares all 64 bits and a damaged size
     * refuses the insert.
     */
    @Test
    void aKeyIndexSizeWithHighBitsSetIsCorruptionNotALostWrite() {
        long index = tableWith13Keys();
        seg.memory().set(ValueLayout.JAVA_LONG, index + KeyIndexLayout.OFF_SIZE, (1L << 50) | 13);
        SharedTable t = SharedTable.open(seg, "t");
        assertThatThrownBy(t::verify).isInstanceOf(SegmentCorruptedException.class).hasMessageContaining("size=");
        assertThatThrownBy(() -> t.setLong("new", "score", 7)).isInstanceOf(SegmentCorruptedException.class)
                .hasMessageContaining("size=");
        assertThat(t.getLong("k1", "score", -1)).isEqualTo(1);
    }

    /** The key index's capacity (which open only checked against its slot count) must equal the table's rows. */
    @Test
    void aKeyIndexCapacityOtherThanTheTableRowsIsRefusedOnOpen() {
        long index = tableWith13Keys();
        seg.memory().set(ValueLayout.JAVA_LONG, index + KeyIndexLayout.OFF_CAPACITY, 25); // same slot count as 32
        assertThatThrownBy(() -> SharedTable.open(seg, "t")).isInstanceOf(SegmentCorruptedException.class)
                .hasMessageContaining("key index capacity=25");
    }
}
