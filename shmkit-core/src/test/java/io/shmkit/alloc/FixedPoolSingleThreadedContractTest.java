package io.shmkit.alloc;

import io.shmkit.segment.Segment;

class FixedPoolSingleThreadedContractTest extends SharedAllocatorContract {

    @Override
    protected SharedAllocator create(Segment segment, String name) {
        return FixedPool.create(segment, name, 64, 300, 64, SyncMode.SINGLE_THREADED);
    }

    @Override
    protected SharedAllocator open(Segment segment, String name) {
        return FixedPool.open(segment, name);
    }
}
