package io.shmkit.alloc;

import io.shmkit.segment.Segment;

/** The contract with whole-page blocks (two and a half pages each), in single-threaded mode. */
class SlabAllocatorLargeBlockContractTest extends SharedAllocatorContract {

    @Override
    protected SharedAllocator create(Segment segment, String name) {
        return SlabAllocator.create(segment, name, 40, 1024, SyncMode.SINGLE_THREADED);
    }

    @Override
    protected SharedAllocator open(Segment segment, String name) {
        return SlabAllocator.open(segment, name);
    }

    @Override
    protected long blockSize() {
        return 2560;
    }
}
