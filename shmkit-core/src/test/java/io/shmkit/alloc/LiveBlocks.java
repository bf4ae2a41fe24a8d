package io.shmkit.alloc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The model side of allocator model tests: the blocks a test holds, each filled with a byte
 * pattern derived from its id. Adding a block checks that it lies inside the segment's data
 * area, is aligned and overlaps no live block; {@link #checkContents()} checks that no live
 * block's bytes changed.
 */
final class LiveBlocks {

    record Block(long offset, long size, long id) {
        byte pattern() {
            return (byte) (id * 0x9E37 + 0x5B);
        }
    }

    private final MemorySegment memory;
    private final long dataStart;
    private final TreeMap<Long, Block> byOffset = new TreeMap<>();
    private final List<Block> list = new ArrayList<>();
    private final Map<Byte, MemorySegment> expected = new HashMap<>();
    private final Arena arena = Arena.ofAuto();
    private final long maxSize;
    private long nextId;

    LiveBlocks(MemorySegment memory, long dataStart, long maxSize) {
        this.memory = memory;
        this.dataStart = dataStart;
        this.maxSize = maxSize;
    }

    Block add(long offset, long size, long align) {
        assertNotEquals(0, offset);
        assertEquals(0, offset % align, "offset " + offset + " not aligned to " + align);
        assertTrue(offset >= dataStart && offset + size <= memory.byteSize(),
                "block [" + offset + ", +" + size + ") outside the segment data area");
        var below = byOffset.floorEntry(offset);
        if (below != null) {
            Block b = below.getValue();
            assertTrue(b.offset + b.size <= offset, "new block at " + offset + " overlaps block at " + b.offset + " (+" + b.size + ")");
        }
        var above = byOffset.ceilingEntry(offset);
        if (above != null) {
            assertTrue(offset + size <= above.getKey(), "new block at " + offset + " (+" + size + ") overlaps block at " + above.getKey());
        }
        Block b = new Block(offset, size, nextId++);
        byOffset.put(offset, b);
        list.add(b);
        memory.asSlice(offset, size).fill(b.pattern());
        return b;
    }

    /** Removes and returns the block at {@code index} of the live list. */
    Block remove(int index) {
        Block b = list.get(index);
        list.set(index, list.get(list.size() - 1));
        list.remove(list.size() - 1);
        byOffset.remove(b.offset);
        return b;
    }

    int size() {
        return list.size();
    }

    List<Block> blocks() {
        return list;
    }

    void checkContents() {
        for (Block b : list) {
            MemorySegment want = expected.computeIfAbsent(b.pattern(), p -> arena.allocate(maxSize).fill(p));
            long at = memory.asSlice(b.offset, b.size).mismatch(want.asSlice(0, b.size));
            assertEquals(-1, at, "block id=" + b.id + " at offset=" + b.offset + " changed at byte " + at);
        }
    }
}
