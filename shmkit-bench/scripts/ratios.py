#!/usr/bin/env python3
"""Prints the shmkit-vs-peer ratios of a JMH JSON result file (jmh -rf json -rff FILE).

Usage: python3 shmkit-bench/scripts/ratios.py FILE
Each ratio compares two benchmarks of the same run; for throughput (ops/us) higher is
better, for average time (ns/op, us/op) lower is better, and the ratio is always stated as
"how many times better shmkit is" (> 1 means shmkit wins).
"""
import json
import sys

PAIRS = [
    # (label, shmkit benchmark, peer benchmark, target as text)
    ("ShmMutex uncontended lock+unlock vs ReentrantLock", "LockBenchmark.uncontendedShmMutex",
     "LockBenchmark.uncontendedReentrantLock", ">= 1.0"),
    ("ping-pong: ShmMutex+ShmCondition across 2 processes vs ReentrantLock+Condition, 2 threads",
     "LockBenchmark.pingPongShmAcrossProcesses", "LockBenchmark.pingPongReentrantLockThreads", ">= 0.67 (within 1.5x)"),
    ("ShmMutex, 2 threads on one lock, vs ReentrantLock", "LockBenchmark.contendedShmMutex_2t",
     "LockBenchmark.contendedReentrantLock_2t", ""),
    ("FixedPool 64 B LOCKED vs Netty pooled", "AllocatorBenchmark.fixedPool64", "AllocatorBenchmark.nettyPooled64", ">= 5"),
    ("FixedPool 64 B LOCKED vs malloc", "AllocatorBenchmark.fixedPool64", "AllocatorBenchmark.malloc64", ">= 1"),
    ("FixedPool 64 B THREAD_CACHED vs Netty pooled", "AllocatorBenchmark.fixedPool64ThreadCached",
     "AllocatorBenchmark.nettyPooled64", ">= 5"),
    ("FixedPool 64 B THREAD_CACHED vs malloc", "AllocatorBenchmark.fixedPool64ThreadCached",
     "AllocatorBenchmark.malloc64", ">= 1"),
    ("FixedPool 64 B SINGLE_THREADED vs malloc", "AllocatorBenchmark.fixedPool64SingleThreadedMode",
     "AllocatorBenchmark.malloc64", ""),
    ("FixedPool 64 B THREAD_CACHED, 2 threads vs malloc, 2 threads", "AllocatorBenchmark.fixedPool64ThreadCached_2t",
     "AllocatorBenchmark.malloc64_2t", ""),
    ("Slab mixed 8..2048 LOCKED vs Netty pooled", "AllocatorBenchmark.slabMixed", "AllocatorBenchmark.nettyPooledMixed", ">= 2"),
    ("Slab mixed 8..2048 LOCKED vs malloc", "AllocatorBenchmark.slabMixed", "AllocatorBenchmark.mallocMixed", ">= 0.8"),
    ("Slab mixed THREAD_CACHED vs Netty pooled", "AllocatorBenchmark.slabMixedThreadCached",
     "AllocatorBenchmark.nettyPooledMixed", ">= 2"),
    ("Slab mixed THREAD_CACHED vs malloc", "AllocatorBenchmark.slabMixedThreadCached", "AllocatorBenchmark.mallocMixed", ">= 0.8"),
    ("Slab mixed THREAD_CACHED, 2 threads vs malloc, 2 threads", "AllocatorBenchmark.slabMixedThreadCached_2t",
     "AllocatorBenchmark.mallocMixed_2t", ""),
    ("Bump 64 B vs malloc+free", "BumpRingRegionBenchmark.bump64", "BumpRingRegionBenchmark.malloc64", ""),
    ("Ring 64 B vs malloc+free", "BumpRingRegionBenchmark.ring64", "BumpRingRegionBenchmark.malloc64", ""),
    ("Region 64 B vs malloc+free", "BumpRingRegionBenchmark.region64", "BumpRingRegionBenchmark.malloc64", ""),
    ("Region 64 B vs confined Arena", "BumpRingRegionBenchmark.region64", "BumpRingRegionBenchmark.arena64", ""),
]


def main(path):
    with open(path) as f:
        runs = json.load(f)
    by_name = {}
    for r in runs:
        name = r["benchmark"].replace("io.shmkit.bench.", "")
        m = r["primaryMetric"]
        by_name[name] = (m["score"], m["scoreError"], m["scoreUnit"], r["mode"])
    print("| benchmark | score | error | unit |")
    print("|---|---|---|---|")
    for name in sorted(by_name):
        s, e, u, _ = by_name[name]
        print(f"| `{name}` | {s:,.3f} | ± {e:,.3f} | {u} |")
    print()
    print("| comparison | ratio (> 1: shmkit better) | target |")
    print("|---|---|---|")
    for label, mine, peer, target in PAIRS:
        if mine not in by_name or peer not in by_name:
            continue
        ms, _, _, mode = by_name[mine]
        ps, _, _, _ = by_name[peer]
        ratio = ms / ps if mode == "thrpt" else ps / ms
        print(f"| {label} | {ratio:.2f} | {target} |")


if __name__ == "__main__":
    main(sys.argv[1])
