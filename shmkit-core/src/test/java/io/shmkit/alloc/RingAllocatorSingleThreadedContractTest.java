package io.shmkit.alloc;

import io.shmkit.segment.Segment;

class RingAllocatorSingleThreadedContractTest extends SharedAllocatorContract {

    @Override
    protected SharedAllocator create(Segment segment, String name) {
        return RingAllocator.create(segment, name, 32 * 1024, SyncMode.SINGLE_THREADED);
    }

    @Override
    protected SharedAllocator open(Segment segment, String name) {
        return RingAllocator.open(segment, name);
    }
}
