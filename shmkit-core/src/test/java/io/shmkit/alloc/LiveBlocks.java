package io.shmkit.alloc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Test-side record of blocks handed out by an allocator: fills each block with a pattern
 * derived from its offset and a tag, and checks that blocks never overlap, stay inside a range,
 * are aligned, and keep their contents.
 */
final class LiveBlocks {

    record Block(long offset, long size, long align, byte tag) {
    }

    private final MemorySegment memory;
    private final long lo;
    private final long hi;
    private final TreeMap<Long, Block> blocks = new TreeMap<>();
    private byte nextTag = 1;

    LiveBlocks(MemorySegment memory, long lo, long hi) {
        this.memory = memory;
        this.lo = lo;
        this.hi = hi;
    }

    static byte pattern(long offset, long i, byte tag) {
        return (byte) ((offset * 31 + i * 7) ^ tag);
    }

    /** Records a new block, checks placement, writes its pattern. */
    void add(long offset, long size, long align) {
        assertTrue(offset != 0, "allocation returned null");
        assertTrue(offset >= lo && offset + size <= hi, "block [" + offset + ", " + (offset + size)
                + ") outside [" + lo + ", " + hi + ")");
        assertEquals(0, offset % align, "offset " + offset + " not aligned to " + align);
        Map.Entry<Long, Block> below = blocks.floorEntry(offset);
        if (below != null && below.getValue().offset() + below.getValue().size() > offset) {
            fail("block at " + offset + " size " + size + " overlaps " + below.getValue());
        }
        Map.Entry<Long, Block> above = blocks.ceilingEntry(offset);
        if (above != null && offset + size > above.getKey()) {
            fail("block at " + offset + " size " + size + " overlaps " + above.getValue());
        }
        byte tag = nextTag++;
        if (nextTag == 0) {
            nextTag = 1;
        }
        Block b = new Block(offset, size, align, tag);
        for (long i = 0; i < size; i++) {
            memory.set(ValueLayout.JAVA_BYTE, offset + i, pattern(offset, i, tag));
        }
        blocks.put(offset, b);
    }

    Block remove(long offset) {
        return blocks.remove(offset);
    }

    void clear() {
        blocks.clear();
    }

    int size() {
        return blocks.size();
    }

    java.util.List<Block> list() {
        return new java.util.ArrayList<>(blocks.values());
    }

    /** Checks every live block still holds its pattern. */
    void checkContents() {
        for (Block b : blocks.values()) {
            for (long i = 0; i < b.size(); i++) {
                byte v = memory.get(ValueLayout.JAVA_BYTE, b.offset() + i);
                if (v != pattern(b.offset(), i, b.tag())) {
                    fail("block " + b + " changed at byte " + i + ": " + v);
                }
            }
        }
    }
}
