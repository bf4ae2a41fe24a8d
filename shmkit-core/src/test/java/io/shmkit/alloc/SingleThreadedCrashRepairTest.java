package io.shmkit.alloc;

import io.shmkit.internal.FixedPoolLayout;
import io.shmkit.internal.Mem;
import io.shmkit.internal.Procs;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A {@code SINGLE_THREADED} allocator whose user was killed inside an operation (found by
 * {@code shmkit torture}, issue 13: a kill inside {@code FixedPool.free} left "used counter is 15
 * but 14 slices are marked used", and every later {@code verify()} failed, because without a lock
 * nobody was told to repair). The allocator now records its last user's {@code Procs.TOKEN}; a
 * call from another process rebuilds the derived data from the state bytes first. Here the state
 * a kill between the commit and the counter update leaves is made by hand, with a word naming
 * another process.
 */
class SingleThreadedCrashRepairTest {
    private final Segment seg = Segment.create(SegmentName.posix(TestNames.unique("single-repair")), 1 << 20);

    @AfterEach
    void remove() {
        seg.closeAndUnlink();
    }

    @Test
    void fixedPoolRepairsDerivedDataLeftByAKilledOperation() {
        FixedPool pool = FixedPool.create(seg, "fp", 64, 32, 8, SyncMode.SINGLE_THREADED);
        long base = seg.lookup("fp").orElseThrow().offset();
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            live.add(pool.allocate(64));
        }
        pool.free(live.remove(4));
        // a free by another process, killed after its commit (the state byte) and before the counter
        Mem.setLong(seg.memory(), base + FixedPoolLayout.OFF_LOCK, Procs.TOKEN + 1);
        Mem.setLong(seg.memory(), base + FixedPoolLayout.OFF_USED, Mem.getLong(seg.memory(), base + FixedPoolLayout.OFF_USED) + 1);

        pool.verify(); // repairs first, then checks

        assertThat(pool.usedSlices()).isEqualTo(live.size());
        for (long off : live) {
            assertThat(pool.isAllocated(off)).isTrue();
        }
        Set<Long> handedOut = new HashSet<>(live);
        long got;
        while ((got = pool.tryAllocate(64)) != 0) {
            assertThat(handedOut.add(got)).as("slice %d handed out twice", got).isTrue();
        }
        assertThat(handedOut).hasSize(32);
        pool.verify();
    }

    @Test
    void whileOneProcessKeepsCallingNoCallRepairs() {
        FixedPool pool = FixedPool.create(seg, "fp", 64, 32, 8, SyncMode.SINGLE_THREADED);
        long base = seg.lookup("fp").orElseThrow().offset();
        long a = pool.allocate(64);
        pool.free(pool.allocate(64));
        // damage the counter without a change of user: the steady state must not rebuild (that
        // would make every call linear), so verify reports the damage instead of hiding it
        Mem.setLong(seg.memory(), base + FixedPoolLayout.OFF_USED, 7L);
        assertThatThrownBy(pool::verify).isInstanceOf(io.shmkit.SegmentCorruptedException.class)
                .hasMessageContaining("used");
        assertThat(Mem.getLong(seg.memory(), base + FixedPoolLayout.OFF_LOCK)).isEqualTo(Procs.TOKEN);
        assertThat(pool.isAllocated(a)).isTrue();
    }

    @Test
    void slabAllocatorRepairsWhenAnotherProcessWasTheLastUser() {
        SlabAllocator slab = SlabAllocator.create(seg, "slab", 8, 1024, SyncMode.SINGLE_THREADED);
        long base = seg.lookup("slab").orElseThrow().offset();
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            live.add(slab.allocate(8 + i * 8));
        }
        assertThat(Mem.getLong(seg.memory(), base + io.shmkit.internal.SlabLayout.OFF_LOCK)).isEqualTo(Procs.TOKEN);
        Mem.setLong(seg.memory(), base + io.shmkit.internal.SlabLayout.OFF_LOCK, 0x5EED_0000_0001L);
        slab.verify();
        assertThat(Mem.getLong(seg.memory(), base + io.shmkit.internal.SlabLayout.OFF_LOCK)).isEqualTo(Procs.TOKEN);
        for (long off : live) {
            slab.free(off);
        }
        slab.verify();
    }
}
