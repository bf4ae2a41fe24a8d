package io.shmkit.bench.report;

import io.shmkit.bench.report.Area.Limit;
import io.shmkit.bench.report.Area.Ratio;
import io.shmkit.bench.report.Area.Row;
import io.shmkit.bench.report.Area.Target;

import java.util.List;
import java.util.Map;

/**
 * The report's areas, their comparisons and targets: the one table to extend. A benchmark that
 * no row names still appears, in the report's "other benchmarks" table.
 *
 * <p>Names are {@code Class.method} as JMH reports them without the {@code io.shmkit.bench.}
 * package, parameters as {@code [k=v]}; non-JMH figures are {@code NativeMalloc.*}, {@code NativeTable.*},
 * {@code AllocatorProcessThroughput.*[processes=N]} and {@code OwnerDiedLatency.median}.
 */
final class Areas {

    private static final String L = "LockBenchmark.";
    private static final String A = "AllocatorBenchmark.";
    private static final String N = "NativeMalloc.";
    private static final String NT = "NativeTable.";
    private static final String T = "SharedTableBenchmark.";
    private static final String P = "AllocatorProcessThroughput.";
    private static final String B = "BumpRingRegionBenchmark.";
    private static final String TCACHE = "[sizes=8-1032]";
    private static final String WIDE = "[sizes=8-2048]";

    static final List<Area> ALL = List.of(
            new Area("locks", "Locks: lock + unlock",
                    "One thread locking and unlocking, then two threads on one lock (time per lock+unlock, lower is better).",
                    List.of(
                            vs("ShmMutex uncontended", L + "uncontendedShmMutex", "ReentrantLock", L + "uncontendedReentrantLock",
                                    target(1.0, "cost <= 1.0x ReentrantLock's", "issue 10")),
                            vs("ShmMutex, 2 threads on one lock", L + "contendedShmMutex_2t", "ReentrantLock, 2 threads", L + "contendedReentrantLock_2t", null),
                            vs("floor: two CAS on a segment word", "LockFloorBenchmark.twoCasOnSegment", "two CAS on an AtomicLong",
                                    "LockFloorBenchmark.twoCasOnAtomicLong", null))),
            new Area("pingpong", "Ping-pong round trip",
                    "ShmMutex + ShmCondition between two processes against ReentrantLock + Condition between two threads, "
                            + "under one wait policy on both sides: park = sleep at once (shmkit spins 0), "
                            + "spin = spin ShmMutex's and ShmCondition's budget, then sleep.",
                    List.of(
                            vs("2 processes, park", L + "pingPongShm2Processes_park", "ReentrantLock+Condition, park",
                                    L + "pingPongJuc2Threads_park", target(1 / 1.2, "within 1.2x", "issue 10")),
                            vs("2 processes, spin then park", L + "pingPongShm2Processes_spin", "ReentrantLock+Condition, same spin",
                                    L + "pingPongJuc2Threads_spin", target(1 / 1.2, "within 1.2x", "issue 10")),
                            vs("shm locks, 2 threads of one JVM, park", L + "pingPongShm2Threads_park", "ReentrantLock+Condition, park",
                                    L + "pingPongJuc2Threads_park", null),
                            vs("shm locks, 2 threads of one JVM, spin", L + "pingPongShm2Threads_spin", "ReentrantLock+Condition, same spin",
                                    L + "pingPongJuc2Threads_spin", null))),
            new Area("ownerdied", "Owner killed: time to the next owner",
                    "SIGKILL of a child JVM holding a ShmMutex to a waiter here holding it with OWNER_DIED (median of the rounds; "
                            + "the error band is the 99.9% confidence interval of the median).",
                    List.of(new Limit("SIGKILL to next owner, median", "OwnerDiedLatency.median", 10.0, "ms", "issue 10"))),
            new Area("fixedpool", "FixedPool, 64-byte slices",
                    "One allocate + one free per operation, one thread. Netty default = PooledByteBufAllocator.DEFAULT (JMH "
                            + "threads get no thread cache, leak detection samples); Netty tuned = useCacheForAllThreads=true, leak "
                            + "detection disabled. malloc via FFM = two downcalls from Java; malloc native = the C program.",
                    List.of(
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached", "malloc+free, native C", N + "malloc64",
                                    target(1.0, ">= 1.0x native malloc+free", "issue 10")),
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached", "malloc+free via FFM", A + "mallocFfm64",
                                    target(1.2, ">= 1.2x malloc via FFM", "issue 10")),
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached", "Netty default", A + "nettyDefault64",
                                    target(5, ">= 5x Netty", "issue 10")),
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached", "Netty tuned", A + "nettyTuned64",
                                    target(5, ">= 5x Netty", "issue 10")),
                            vs("LOCKED", A + "fixedPool64", "Netty default", A + "nettyDefault64", target(5, ">= 5x Netty", "issue 4")),
                            vs("LOCKED", A + "fixedPool64", "malloc+free via FFM", A + "mallocFfm64", target(1, ">= 1x malloc", "issue 4")),
                            vs("SINGLE_THREADED", A + "fixedPool64SingleThreadedMode", "malloc+free via FFM", A + "mallocFfm64", null))),
            new Area("fixedpool2t", "FixedPool, 64-byte slices, two threads",
                    "The same with two threads on one pool (JMH @Threads(2), both threads' operations summed); each peer also with "
                            + "two threads. One thread's figures are in the table above.",
                    List.of(
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached_2t", "malloc native", N + "malloc64_2t", null),
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached_2t", "malloc via FFM", A + "mallocFfm64_2t", null),
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached_2t", "Netty default", A + "nettyDefault64_2t", null),
                            vs("THREAD_CACHED", A + "fixedPool64ThreadCached_2t", "Netty tuned", A + "nettyTuned64_2t", null),
                            vs("THREAD_CACHED, 2 threads", A + "fixedPool64ThreadCached_2t", "1 thread", A + "fixedPool64ThreadCached", null),
                            vs("LOCKED", A + "fixedPool64_2t", "malloc via FFM", A + "mallocFfm64_2t", null))),
            slab(TCACHE, "SlabAllocator, sizes 8..1032 (glibc's tcache range)",
                    "Uniform request sizes 8..1032: malloc serves every one from its per-thread tcache, so this is the "
                            + "like-for-like comparison. Peers as for FixedPool.",
                    target(0.8, ">= 0.8x native malloc", "issue 10"), null, null, null),
            slab(WIDE, "SlabAllocator, sizes 8..2048",
                    "Uniform request sizes 8..2048: about half are beyond glibc's tcache limit (1032 bytes) and take malloc's "
                            + "locked arena path, while the slab caches every size class.",
                    null, target(0.8, ">= 0.8x malloc", "issue 4"), target(2, ">= 2x Netty", "issue 4"),
                    target(0.8, ">= 0.8x malloc", "issue 4")),
            new Area("slab2t", "SlabAllocator, two threads",
                    "Two threads on one slab (both threads' operations summed), each peer with two threads.",
                    List.of(
                            vs("THREAD_CACHED, 8..1032", A + "slabMixedThreadCached_2t" + TCACHE, "malloc native", N + "mallocMixed_2t" + TCACHE, null),
                            vs("THREAD_CACHED, 8..1032", A + "slabMixedThreadCached_2t" + TCACHE, "malloc via FFM", A + "mallocFfmMixed_2t" + TCACHE, null),
                            vs("THREAD_CACHED, 8..1032", A + "slabMixedThreadCached_2t" + TCACHE, "Netty default", A + "nettyDefaultMixed_2t" + TCACHE, null),
                            vs("THREAD_CACHED, 8..1032", A + "slabMixedThreadCached_2t" + TCACHE, "Netty tuned", A + "nettyTunedMixed_2t" + TCACHE, null),
                            vs("THREAD_CACHED, 8..2048", A + "slabMixedThreadCached_2t" + WIDE, "malloc native", N + "mallocMixed_2t" + WIDE, null),
                            vs("THREAD_CACHED, 8..2048", A + "slabMixedThreadCached_2t" + WIDE, "malloc via FFM", A + "mallocFfmMixed_2t" + WIDE, null),
                            vs("THREAD_CACHED, 8..2048", A + "slabMixedThreadCached_2t" + WIDE, "Netty default", A + "nettyDefaultMixed_2t" + WIDE, null),
                            vs("THREAD_CACHED, 8..2048", A + "slabMixedThreadCached_2t" + WIDE, "Netty tuned", A + "nettyTunedMixed_2t" + WIDE, null),
                            vs("LOCKED, 8..1032", A + "slabMixed_2t" + TCACHE, "malloc via FFM", A + "mallocFfmMixed_2t" + TCACHE, null),
                            vs("LOCKED, 8..2048", A + "slabMixed_2t" + WIDE, "malloc via FFM", A + "mallocFfmMixed_2t" + WIDE, null))),
            new Area("processes", "One allocator, one and two processes",
                    "AllocatorProcessThroughput: one thread per process on one shared allocator, total operations per microsecond; "
                            + "the ratio is two processes' total over one process's (2.0 = perfect scaling).",
                    List.of(
                            vs("FixedPool LOCKED 64 B, 2 processes", P + "fixedPool64[processes=2]", "1 process", P + "fixedPool64[processes=1]", null),
                            vs("FixedPool THREAD_CACHED 64 B, 2 processes", P + "fixedPool64ThreadCached[processes=2]", "1 process",
                                    P + "fixedPool64ThreadCached[processes=1]", null),
                            vs("Slab LOCKED 8..2048, 2 processes", P + "slabMixed[processes=2]", "1 process", P + "slabMixed[processes=1]", null),
                            vs("Slab THREAD_CACHED 8..2048, 2 processes", P + "slabMixedThreadCached[processes=2]", "1 process",
                                    P + "slabMixedThreadCached[processes=1]", null))),
            new Area("bumpringregion", "Bump, ring and region allocators",
                    "64-byte requests handed back the way each allocator is meant to be used (see BumpRingRegionBenchmark); "
                            + "malloc via FFM and a confined Arena as peers.",
                    List.of(
                            vs("Bump, process-safe", B + "bump64", "malloc+free via FFM", B + "malloc64", null),
                            vs("Bump, SINGLE_THREADED", B + "bump64SingleThreadedMode", "malloc+free via FFM", B + "malloc64", null),
                            vs("Ring, locked", B + "ring64", "malloc+free via FFM", B + "malloc64", null),
                            vs("Ring, SINGLE_THREADED", B + "ring64SingleThreadedMode", "malloc+free via FFM", B + "malloc64", null),
                            vs("Region", B + "region64", "malloc+free via FFM", B + "malloc64", null),
                            vs("Region", B + "region64", "confined Arena", B + "arena64", null),
                            vs("Bump 8 B, 2 threads", B + "bump8NoReset_2t", "1 thread", B + "bump8NoReset", null),
                            vs("Ring, 2 threads", B + "ring64_2t", "malloc FFM, 2 threads", B + "malloc64_2t", null))),
            new Area("pools", "Object pools (hot restart)",
                    "PoolBenchmark: get(handle) + one long field against the same read from a raw MemorySegment at a precomputed "
                            + "offset; keyed find by a long player id at 1M objects against HashMap<Long, Long>.get on the same keys "
                            + "(time per operation); resume of pools holding 1,000,000 objects against 10,000 (time per resume).",
                    List.of(
                            vs("get(handle) + read a long", "PoolBenchmark.Access.getHandleReadLong", "raw segment read",
                                    "PoolBenchmark.Access.rawSegmentReadLong", target(1 / 1.5, "within 1.5x", "issue 11")),
                            vs("keyed find, 1M objects", "PoolBenchmark.Access.keyedFind", "HashMap<Long,…>.get",
                                    "PoolBenchmark.Access.hashMapGet", target(1 / 3.0, "within 3x", "issue 11")),
                            vs("resume, 1M objects", "PoolBenchmark.Start.resume[objects=1000000]", "resume, 10k objects",
                                    "PoolBenchmark.Start.resume[objects=10000]", target(0.5, "within 2x", "issue 11")),
                            vs("resume, 1M objects", "PoolBenchmark.Start.resume[objects=1000000]", "cold start, 1M objects",
                                    "PoolBenchmark.Start.coldStart[objects=1000000]", null))),
            new Area("table", "SharedTable, 1M rows, 16-byte keys, 64-byte values",
                    "SharedTableBenchmark, one thread, uniformly random keys (ops/us): Chronicle Map 2026.1 in forks with the "
                            + "flags it needs on JDK 25; ConcurrentHashMap in one JVM as the in-process ceiling; the floor is the "
                            + "memory a get touches, read by hand over raw shared memory (no table code), in Java and in C "
                            + "(NativeTable, src/main/c/table_floor.c: the same layout, keys and hash without the JVM).",
                    List.of(
                            vs("get", T + "shmkitGet", "Chronicle Map", T + "Chronicle.get", target(3, ">= 3x Chronicle Map", "issue 12")),
                            vs("set", T + "shmkitSet", "Chronicle Map", T + "Chronicle.set", target(3, ">= 3x Chronicle Map", "issue 12")),
                            vs("incr", T + "shmkitIncr", "Chronicle Map", T + "Chronicle.incr", target(3, ">= 3x Chronicle Map", "issue 12")),
                            vs("get", T + "shmkitGet", "ConcurrentHashMap", T + "chmGet", target(0.5, "within 2x", "issue 12")),
                            vs("get", T + "shmkitGet", "floor: the same layout by hand", T + "floorBucketThenRow", null),
                            vs("floor: row in its bucket", T + "floorRowInBucket", "floor: bucket word, then row",
                                    T + "floorBucketThenRow", null),
                            vs("floor: the same layout by hand", T + "floorBucketThenRow", "Chronicle Map", T + "Chronicle.get", null),
                            vs("get", T + "shmkitGet", "floor, native C", NT + "floorBucketThenRow", null),
                            vs("floor, native C", NT + "floorBucketThenRow", "Chronicle Map", T + "Chronicle.get", null),
                            vs("floor, native C: row in its bucket", NT + "floorRowInBucket", "Chronicle Map", T + "Chronicle.get",
                                    null),
                            vs("ConcurrentHashMap", T + "chmGet", "floor, native C", NT + "floorBucketThenRow", null))),
            new Area("table2t", "SharedTable, two threads",
                    "The same table and keys, two threads of one JVM on one table (ops/us, both threads together).",
                    List.of(
                            vs("get", T + "shmkitGet_2t", "Chronicle Map", T + "Chronicle.get_2t", target(3, ">= 3x Chronicle Map", "issue 12")),
                            vs("set", T + "shmkitSet_2t", "Chronicle Map", T + "Chronicle.set_2t", target(3, ">= 3x Chronicle Map", "issue 12")),
                            vs("incr", T + "shmkitIncr_2t", "Chronicle Map", T + "Chronicle.incr_2t",
                                    target(3, ">= 3x Chronicle Map", "issue 12")),
                            vs("get", T + "shmkitGet_2t", "ConcurrentHashMap", T + "chmGet_2t", target(0.5, "within 2x", "issue 12")),
                            vs("get, 2 threads", T + "shmkitGet_2t", "1 thread", T + "shmkitGet", null),
                            vs("get", T + "shmkitGet_2t", "floor, native C, 2 threads", NT + "floorBucketThenRow_2t", null),
                            vs("floor, native C, 2 threads", NT + "floorBucketThenRow_2t", "Chronicle Map", T + "Chronicle.get_2t",
                                    null))),
            new Area("segmentaccess", "Bounds-checked access (design rule 5)",
                    "8 read-modify-writes of a long (16 accesses) through the segment's own bounds-checked view, as the allocators do, "
                            + "against a view of the whole address space that the library refuses to use (docs/DECISIONS.md).",
                    List.of(vs("segment's own view", "SegmentAccessBenchmark.boundsCheckedView", "whole-address-space view",
                            "SegmentAccessBenchmark.wholeAddressSpace", null))));

    /**
     * What would close a missed target, by the shmkit figure of the row (printed under "where
     * the time goes" when a row with that figure misses its target).
     */
    static final Map<String, String> IF_MISSED = Map.ofEntries(
            Map.entry(L + "uncontendedShmMutex", "Lock and unlock are one CAS each, as in ReentrantLock; what ShmMutex adds is the owner "
                    + "word from Thread.threadId() and the owner-stamp compare. Compare with the floor (LockFloorBenchmark); a gap "
                    + "beyond the noise band would be closed by caching the owner word per thread."),
            Map.entry(L + "pingPongShm2Processes_park", "Both sides pay one futex wake and one context switch per hand-off; what the "
                    + "cross-process side adds is the shared futex (keyed by inode and offset, not by address) and two JVMs "
                    + "competing for the cores. On a loaded machine the figure swings with the scheduler: rerun it quiet first."),
            Map.entry(L + "pingPongShm2Processes_spin", "A waiter that stops spinning before the other process answers sleeps, and on two "
                    + "busy cores the spinning takes the CPU the other side needs. A budget that adapts to the partner's answer "
                    + "time (ShmCondition halves and doubles it today) or a quiet machine closes it."),
            Map.entry("OwnerDiedLatency.median", "A sleeping waiter polls the owner's liveness every 5 ms (Futex.CHECK_INTERVAL_NANOS), "
                    + "and the killed JVM takes time to go away. The owner's kernel-held token (its OFD lock) tells a waiter at "
                    + "once that the owner died, but only when the waiter looks; a wake-up on the owner's death would remove the poll."),
            Map.entry(A + "fixedPool64ThreadCached", "A cache hit is a state-byte store and a statistics word, each through FFM's bounds "
                    + "and liveness checks, plus the lookup of the calling thread's cache. Fewer checked accesses per hit "
                    + "(dropping the per-hit statistics word, counting per batch instead) is what is left to take."),
            Map.entry(A + "slabMixedThreadCached[sizes=8-1032]", "A cached free reads the page descriptor (kind, class, bitmap word) "
                    + "and the block's first word (the double-free tag), then writes the tag, the offset and the count into "
                    + "shared memory; a cached allocate writes the count, a statistics word and clears the tag: about ten "
                    + "bounds-checked shared-memory accesses per pair, where glibc's tcache hit touches a thread-local list. "
                    + "Fewer checked accesses per hit would close it: a per-block state byte as FixedPool has (one store is "
                    + "the commit and the double-free check), statistics counted per refill instead of per hit."),
            Map.entry(A + "fixedPool64", "LOCKED takes the robust mutex twice per allocate + free: four atomic instructions, whatever "
                    + "the pool does inside. Not closable inside the lock; THREAD_CACHED is the fast mode."),
            Map.entry(A + "slabMixed[sizes=8-2048]", "LOCKED takes the robust mutex twice per allocate + free: four atomic "
                    + "instructions. Not closable inside the lock; THREAD_CACHED is the fast mode."),
            Map.entry(T + "shmkitGet", "A get on a random key of 1M rows waits on memory: the key bytes, the bucket word and "
                    + "the row, one after the other. Compare with the floor rows of the table above: the same layout read by "
                    + "hand (floorBucketThenRow) is the most any code can reach on this layout, and floorRowInBucket is what a "
                    + "format with the row stored in its bucket could reach. A target above both floors is out of reach of "
                    + "both layouts; the gap between shmkit and its floor is its code (the row's sequence reads and the second "
                    + "key compare)."),
            Map.entry(T + "shmkitSet", "A set walks a get's memory chain (its floor is floorBucketThenRow), then takes the "
                    + "stripe lock (two atomic instructions) and writes the redo-logged image of the row."),
            Map.entry(T + "shmkitIncr", "An incr walks a get's memory chain (its floor is floorBucketThenRow), then takes the "
                    + "stripe lock (two atomic instructions) and stores one word under the row's sequence."));

    private Areas() {
    }

    /** One thread on a slab, one size range: every mode against every peer. */
    private static Area slab(String sizes, String title, String intro, Target vsNative, Target vsFfm, Target vsNetty, Target lockedVsFfm) {
        String range = sizes.substring("[sizes=".length(), sizes.length() - 1);
        return new Area("slab-" + range, title, intro, List.of(
                vs("THREAD_CACHED", A + "slabMixedThreadCached" + sizes, "malloc native", N + "mallocMixed" + sizes, vsNative),
                vs("THREAD_CACHED", A + "slabMixedThreadCached" + sizes, "malloc via FFM", A + "mallocFfmMixed" + sizes, vsFfm),
                vs("THREAD_CACHED", A + "slabMixedThreadCached" + sizes, "Netty default", A + "nettyDefaultMixed" + sizes, vsNetty),
                vs("THREAD_CACHED", A + "slabMixedThreadCached" + sizes, "Netty tuned", A + "nettyTunedMixed" + sizes, vsNetty),
                vs("LOCKED", A + "slabMixed" + sizes, "Netty default", A + "nettyDefaultMixed" + sizes, vsNetty),
                vs("LOCKED", A + "slabMixed" + sizes, "malloc via FFM", A + "mallocFfmMixed" + sizes, lockedVsFfm),
                vs("SINGLE_THREADED", A + "slabMixedSingleThreadedMode" + sizes, "malloc via FFM", A + "mallocFfmMixed" + sizes, null)));
    }

    private static Row vs(String label, String shmkit, String peerLabel, String peer, Target target) {
        return new Ratio(label, shmkit, peerLabel, peer, target);
    }

    private static Target target(double min, String text, String source) {
        return new Target(min, text, source);
    }
}
