package io.shmkit.alloc;

import io.shmkit.segment.Segment;

class BumpAllocatorContractTest extends SharedAllocatorContract {

    @Override
    protected SharedAllocator create(Segment segment, String name) {
        return BumpAllocator.create(segment, name, 16 * 4096, 4096);
    }

    @Override
    protected SharedAllocator open(Segment segment, String name) {
        return BumpAllocator.open(segment, name);
    }

    @Override
    protected boolean supportsFree() {
        return false;
    }

    @Override
    protected void release(SharedAllocator allocator) {
        ((BumpAllocator) allocator).reset();
    }

    @Override
    protected long maxAlign() {
        return 2048; // page data starts 64 bytes into a 4096-byte page
    }
}
