package io.shmkit.cli;

import io.shmkit.ShmException;
import io.shmkit.alloc.AllocatorStats;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.Inspection;
import io.shmkit.alloc.RegionRegistry;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SlabClassStats;
import io.shmkit.alloc.StructureKind;
import io.shmkit.alloc.SyncMode;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Statistics of every allocator in a segment, read from a private copy-on-write snapshot
 * ({@link Segment#openSnapshot}): the command never registers as attached, never waits for a
 * lock, and never writes to the segment. A lock held by a live (or stopped) process is named
 * and the figures are read without it; a lock left by a dead process is repaired in the
 * snapshot only, so the figures show what its next user will find. With {@code --verify} it
 * also checks every invariant (skipped, and said so, while a live process holds the lock).
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Show the statistics of every allocator inside a segment.")
final class StatCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    SegmentArg segment;

    @Option(names = "--json", description = "JSON array, one object per allocator.")
    boolean json;

    @Option(names = "--verify", description = "Also run verify() on each allocator; exit 1 if any is corrupt.")
    boolean verify;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int status = 0;
        List<String> objects = new ArrayList<>();
        try (Segment seg = Segment.openSnapshot(segment.resolve())) {
            List<DirectoryEntry> entries = seg.directory();
            int shown = 0;
            for (DirectoryEntry e : entries) {
                StructureKind kind = StructureKind.of(e.kind()).orElse(null);
                if (kind == StructureKind.REGION_REGISTRY) {
                    shown++;
                    status |= regions(out, seg, e, objects);
                    continue;
                }
                if (kind == null || !kind.isAllocator()) {
                    continue;
                }
                shown++;
                SharedAllocator a;
                Inspection.LockHolder holder = Inspection.lockHolder(seg, e).orElse(null);
                try {
                    a = Inspection.open(seg, e).orElseThrow();
                } catch (ShmException ex) {
                    status = 1;
                    if (json) {
                        objects.add("{\"name\":" + Json.str(e.name()) + ",\"error\":" + Json.str(ex.getMessage()) + "}");
                    } else {
                        out.printf("%s: cannot open: %s%n", e.name(), ex.getMessage());
                    }
                    continue;
                }
                AllocatorStats s = a.stats();
                String verdict = null;
                if (verify && holder != null && !holder.dead()) {
                    verdict = "skipped: the lock is held by " + holder;
                } else if (verify) {
                    try {
                        a.verify();
                        verdict = "ok";
                    } catch (ShmException ex) {
                        verdict = ex.getMessage();
                        status = 1;
                    }
                }
                if (json) {
                    objects.add(json(e, s, a, verdict, holder));
                } else {
                    text(out, e, s, a, verdict, holder);
                }
            }
            if (json) {
                out.println("[" + String.join(",", objects) + "]");
            } else if (shown == 0) {
                out.println("no allocators in " + seg.name() + " (" + entries.size() + " structures)");
            }
            if (status != 0) {
                // the details are in the report above; the error stream gets the one-line verdict every failing command gives
                out.flush();
                spec.commandLine().getErr().println("shmkit stat: " + seg.name() + ": a structure "
                        + (verify ? "cannot be opened or failed verify" : "cannot be opened") + " (details above)");
            }
        }
        return status;
    }

    private static void text(PrintWriter out, DirectoryEntry e, AllocatorStats s, SharedAllocator a, String verdict,
                             Inspection.LockHolder holder) {
        out.printf("%s (%s) at offset %d, %s reserved%n", e.name(), s.type(), e.offset(), Sizes.human(e.length()));
        if (holder != null) {
            out.printf("  lock held by %s: %s%n", holder, holder.dead()
                    ? "shown as repaired (its next user repairs it)" : "figures read without the lock");
        }
        out.printf("  capacity %d  used %d  free %d  (%.1f%% used)%n", s.capacity(), s.used(), s.free(),
                s.capacity() == 0 ? 0.0 : 100.0 * s.used() / s.capacity());
        out.printf("  allocations %d  requests %d  failures %d%n", s.allocations(), s.requests(), s.failures());
        out.printf("  mode %s%s%n", a.mode(), cached(a) < 0 ? "" : ", " + cached(a) + " free blocks held in thread caches");
        if (a instanceof SlabAllocator slab) {
            out.printf("  pages %d x %d, free pages %d%n", slab.pageCount(), slab.pageSize(), slab.freePages());
            out.printf("  %8s %8s %8s %10s %9s%n", "class", "total", "used", "requests", "failures");
            for (SlabClassStats c : slab.classStats()) {
                out.printf("  %8d %8d %8d %10d %9d%n", c.size(), c.total(), c.used(), c.requests(), c.failures());
            }
        }
        if (verdict != null) {
            out.printf("  verify: %s%n", verdict);
        }
    }

    /** Shows a region registry; returns 1 if it cannot be opened or fails verify. */
    private int regions(PrintWriter out, Segment seg, DirectoryEntry e, List<String> objects) {
        String error = null;
        RegionRegistry r = null;
        try {
            r = Inspection.openRegistry(seg, e);
            if (verify) {
                r.verify();
            }
        } catch (ShmException ex) {
            error = ex.getMessage();
        }
        if (json) {
            objects.add(r == null ? "{\"name\":" + Json.str(e.name()) + ",\"error\":" + Json.str(error) + "}"
                    : "{\"name\":" + Json.str(e.name()) + ",\"type\":\"region-registry\",\"allocator\":"
                    + Json.str(r.allocator().name()) + ",\"slots\":" + r.slots() + ",\"registered\":"
                    + r.registeredRegions() + ",\"reclaimedRegions\":" + r.reclaimedRegions()
                    + ",\"reclaimedBlocks\":" + r.reclaimedBlocks()
                    + (verify ? ",\"verify\":" + Json.str(error == null ? "ok" : error) : "") + "}");
        } else if (r == null) {
            out.printf("%s: cannot open: %s%n", e.name(), error);
        } else {
            out.printf("%s (region-registry) at offset %d, %s reserved, regions over '%s'%n", e.name(), e.offset(),
                    Sizes.human(e.length()), r.allocator().name());
            out.printf("  slots %d  registered %d  reclaimed %d regions, %d blocks%n", r.slots(),
                    r.registeredRegions(), r.reclaimedRegions(), r.reclaimedBlocks());
            if (verify) {
                out.printf("  verify: %s%n", error == null ? "ok" : error);
            }
        }
        return error == null ? 0 : 1;
    }

    /** Free blocks sitting in thread caches, or -1 for an allocator without them. */
    private static long cached(SharedAllocator a) {
        if (a.mode() != SyncMode.THREAD_CACHED) {
            return -1;
        }
        return a instanceof FixedPool p ? p.cachedSlices() : a instanceof SlabAllocator s ? s.cachedBlocks() : -1;
    }

    private static String json(DirectoryEntry e, AllocatorStats s, SharedAllocator a, String verdict,
                               Inspection.LockHolder holder) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"name\":").append(Json.str(e.name())).append(",\"type\":").append(Json.str(s.type()))
                .append(",\"offset\":").append(e.offset()).append(",\"length\":").append(e.length())
                .append(",\"capacity\":").append(s.capacity()).append(",\"used\":").append(s.used())
                .append(",\"allocations\":").append(s.allocations()).append(",\"requests\":").append(s.requests())
                .append(",\"failures\":").append(s.failures()).append(",\"mode\":").append(Json.str(a.mode().name()));
        if (cached(a) >= 0) {
            b.append(",\"cachedBlocks\":").append(cached(a));
        }
        if (a instanceof SlabAllocator slab) {
            b.append(",\"freePages\":").append(slab.freePages()).append(",\"classes\":[");
            List<SlabClassStats> cs = slab.classStats();
            for (int i = 0; i < cs.size(); i++) {
                SlabClassStats c = cs.get(i);
                b.append(i == 0 ? "" : ",").append("{\"size\":").append(c.size()).append(",\"total\":").append(c.total())
                        .append(",\"used\":").append(c.used()).append(",\"requests\":").append(c.requests())
                        .append(",\"failures\":").append(c.failures()).append('}');
            }
            b.append(']');
        }
        if (holder != null) {
            b.append(",\"lockHolder\":{\"pid\":").append(holder.pid()).append(",\"state\":")
                    .append(Json.str(holder.state())).append('}');
        }
        if (verdict != null) {
            b.append(",\"verify\":").append(Json.str(verdict));
        }
        return b.append('}').toString();
    }
}
