package io.shmkit.alloc;

import io.shmkit.segment.Segment;

class SlabAllocatorContractTest extends SharedAllocatorContract {

    @Override
    protected SharedAllocator create(Segment segment, String name) {
        return SlabAllocator.create(segment, name, 16, 4096, SyncMode.LOCKED);
    }

    @Override
    protected SharedAllocator open(Segment segment, String name) {
        return SlabAllocator.open(segment, name);
    }

    @Override
    protected long maxAlign() {
        return 4096;
    }
}
