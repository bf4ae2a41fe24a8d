package io.shmkit.segment;

import io.shmkit.LayoutMismatchException;
import io.shmkit.NotAShmkitSegmentException;
import io.shmkit.SegmentCorruptedException;
import io.shmkit.SegmentTruncatedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.Formats;
import io.shmkit.internal.Mem;
import io.shmkit.internal.Procs;

import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static io.shmkit.internal.SegmentHeader.*;

/**
 * Writes and checks the segment header (layout in {@link io.shmkit.internal.SegmentHeader}):
 * the creator's initialisation with the magic published last, an opener's wait for it, and the
 * validation that turns every problem into its own {@link io.shmkit.ShmException}, and the
 * reading of every field for {@link SegmentInfo}. Stateless.
 */
final class HeaderCodec {

    /** How long an opener (not an inspector) waits for a creator to size the file and publish the magic. */
    static final long CREATOR_WAIT_NANOS = 1_000_000_000L;

    private HeaderCodec() {
    }

    /** Initialises a new header; the magic is stored last, with release semantics. */
    static void init(MemorySegment m, SegmentName name, long size, SegmentOptions options) {
        m.asSlice(0, HEADER_SIZE).fill((byte) 0);
        Mem.setInt(m, OFF_HEADER_SIZE, HEADER_SIZE);
        Mem.setInt(m, OFF_KIND, options.kind());
        Mem.setInt(m, OFF_BACKEND, name.backend().ordinal());
        Mem.setLong(m, OFF_LAYOUT_HASH, options.layoutHash());
        Mem.setLong(m, OFF_SIZE, size);
        Mem.setLong(m, OFF_RESIZE_GENERATION, 0L);
        Mem.setLong(m, OFF_CREATOR_PID, (long) Procs.PID);
        Mem.setLong(m, OFF_CREATOR_START, Procs.START_TIME);
        Mem.setLong(m, OFF_CREATED_AT, System.currentTimeMillis());
        Mem.setInt(m, OFF_MODE, options.mode());
        Mem.setLong(m, OFF_DATA_OFFSET, (long) HEADER_SIZE);
        Mem.setLong(m, OFF_CARVE_TOP, (long) HEADER_SIZE);
        String label = name.backend() == Backend.FILE ? name.path().getFileName().toString() : name.value();
        byte[] bytes = label.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length > NAME_BYTES) {
            label = new String(bytes, 0, NAME_BYTES - 4, java.nio.charset.StandardCharsets.UTF_8);
            label = label.substring(0, Math.max(0, label.length() - 1));
        }
        writeString(m, OFF_NAME, NAME_BYTES, label);
        Mem.setInt(m, OFF_ATTACH_CAPACITY, ATTACH_SLOTS);
        Mem.setInt(m, OFF_DIRECTORY_CAPACITY, DIRECTORY_ENTRIES);
        // the format, then the magic (release): publishes every field above to processes that
        // read the magic with acquire
        Formats.publish(m, OFF_MAGIC, MAGIC, OFF_FORMAT, FORMAT);
    }

    /** Waits until the creator published the magic; true if a non-zero magic word is present. */
    static boolean awaitMagic(MemorySegment raw, long deadline) {
        while (true) {
            long magic = Mem.getLongAcquire(raw, OFF_MAGIC);
            if (magic != 0) {
                return true;
            }
            if (System.nanoTime() >= deadline || !allZero(raw, 8, HEADER_SIZE)) {
                return false; // either the creator is gone, or this is someone else's data
            }
            pause();
        }
    }

    private static boolean allZero(MemorySegment m, long from, long to) {
        for (long i = from; i < to; i += 8) {
            if (Mem.getLong(m, i) != 0) { // m starts at a page: every i is 8-byte aligned
                return false;
            }
        }
        return true;
    }

    static void pause() {
        LockSupport.parkNanos(1_000_000L);
    }

    /** Validates an existing header against the object's size and the caller's expectations. */
    static void validate(SegmentName name, MemorySegment m, long actualSize, SegmentOptions options) {
        long magic = Mem.getLongAcquire(m, OFF_MAGIC);
        if (magic != MAGIC) {
            throw new NotAShmkitSegmentException("segment " + name + " is not a shmkit segment: magic=0x"
                    + Long.toHexString(magic) + " expected=0x" + Long.toHexString(MAGIC)
                    + (magic == 0 ? " (empty header: its creator never finished initialising it)" : ""));
        }
        int version = Mem.getInt(m, OFF_FORMAT);
        if (version > FORMAT) {
            throw new UnsupportedFormatException("segment " + name + " has format version=" + version
                    + ", newer than this shmkit supports (" + FORMAT + "); upgrade shmkit to open it");
        }
        if (version < 1) {
            throw new SegmentCorruptedException("segment " + name + ": invalid format version=" + version);
        }
        if (version < MIN_FORMAT) {
            throw new UnsupportedFormatException("segment " + name + " has format version=" + version
                    + ", older than this shmkit reads (" + MIN_FORMAT + ": owners are attach-table"
                    + " registrations, not pid and start time); recreate it with this version");
        }
        int headerSize = Mem.getInt(m, OFF_HEADER_SIZE);
        if (headerSize != HEADER_SIZE) {
            throw new SegmentCorruptedException("segment " + name + ": header size=" + headerSize
                    + " expected=" + HEADER_SIZE);
        }
        long recorded = Mem.getLongAcquire(m, OFF_SIZE);
        if (recorded > actualSize) {
            throw new SegmentTruncatedException("segment " + name + " is truncated: header records size=" + recorded
                    + " but the backing object has size=" + actualSize);
        }
        if (recorded < Segment.MIN_SIZE) {
            throw new SegmentCorruptedException("segment " + name + ": header records size=" + recorded
                    + " below the minimum " + Segment.MIN_SIZE);
        }
        long dataOffset = Mem.getLong(m, OFF_DATA_OFFSET);
        long carveTop = Mem.getLong(m, OFF_CARVE_TOP);
        if (dataOffset != HEADER_SIZE || carveTop < dataOffset || carveTop > recorded) {
            throw new SegmentCorruptedException("segment " + name + ": header fields out of range: dataOffset="
                    + dataOffset + " carveTop=" + carveTop + " size=" + recorded);
        }
        int kind = Mem.getInt(m, OFF_KIND);
        if (options.kind() != 0 && kind != options.kind()) {
            throw new LayoutMismatchException("segment " + name + " holds structure kind=" + kind
                    + ", expected kind=" + options.kind());
        }
        long hash = Mem.getLong(m, OFF_LAYOUT_HASH);
        if (options.layoutHash() != 0 && hash != options.layoutHash()) {
            throw new LayoutMismatchException("segment " + name + " has layoutHash=0x" + Long.toHexString(hash)
                    + ", expected layoutHash=0x" + Long.toHexString(options.layoutHash()));
        }
    }

    /** Every header field, with the given backing size and attach table, and the directory. */
    static SegmentInfo readInfo(SegmentName name, MemorySegment m, long backingSize, List<AttachedProcess> attached) {
        return new SegmentInfo(name, Mem.getInt(m, OFF_FORMAT), Mem.getInt(m, OFF_KIND),
                Mem.getLong(m, OFF_LAYOUT_HASH), Mem.getLongAcquire(m, OFF_SIZE), backingSize,
                Mem.getLongAcquire(m, OFF_RESIZE_GENERATION), Mem.getLong(m, OFF_CREATOR_PID),
                Mem.getLong(m, OFF_CREATOR_START), Instant.ofEpochMilli(Mem.getLong(m, OFF_CREATED_AT)),
                Mem.getInt(m, OFF_MODE), Mem.getLong(m, OFF_DATA_OFFSET), Mem.getLongAcquire(m, OFF_CARVE_TOP),
                attached, Directory.read(m));
    }
}
