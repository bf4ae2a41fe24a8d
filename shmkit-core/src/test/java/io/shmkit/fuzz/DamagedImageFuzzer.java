package io.shmkit.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shmkit.ShmException;
import io.shmkit.alloc.BumpAllocator;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.Inspection;
import io.shmkit.alloc.Region;
import io.shmkit.alloc.RegionRegistry;
import io.shmkit.alloc.RingAllocator;
import io.shmkit.alloc.SharedAllocator;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.internal.SegmentHeader;
import io.shmkit.pool.Pool;
import io.shmkit.pool.Pools;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableFullException;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Coverage-guided damage fuzzing (Jazzer) of every structure kind: a case copies pristine
 * images back (see {@link DamageFixture}), damages one target with 1 to 8 operations the
 * fuzzer chooses (bit flips, overwritten words with interesting values: offsets outside the
 * segment, into the header or into the structure itself, words swapped or copied elsewhere,
 * making cycles in free lists, byte runs, lock words naming the calling thread, a dead owner
 * or a foreign one), then opens it, verifies it and works it. Every case must end in a clean
 * pass or a documented exception ({@code ShmException} subclasses, an
 * {@code IllegalArgumentException} thrown by shmkit itself, {@code TableFullException}) within
 * {@link #CASE_SECONDS} seconds, and no structure may hand out a block (slice, region memory,
 * pool object) that is still handed out in the same case. A structure whose range the case did
 * not damage must in addition keep every block live in its image.
 *
 * <p>Runs in fuzzing mode from the {@code fuzz} surefire execution of {@code ./mvnw verify}
 * (inputs kept in {@code src/test/resources/io/shmkit/fuzz/DamagedImageFuzzerInputs/damagedImage/}
 * are replayed first); see docs/RELIABILITY.md for the long run.
 */
class DamagedImageFuzzer {

    static final int CASE_SECONDS = 5;
    static final int POLL_MILLIS = 100;
    static final boolean TRACE = Boolean.getBoolean("shmkit.fuzz.trace");

    /** Targets: the structures of the main segment, then the header, the directory, the pools. */
    static final int HEADER = DamageFixture.STRUCTURES.size();
    static final int DIRECTORY = HEADER + 1;
    static final int POOLS = HEADER + 2;
    static final int TARGETS = HEADER + 3;

    private static DamageFixture fixture;
    private static ExecutorService worker;
    private static long selfOwnerWord;
    private static SegmentName headerCopy;
    private static final AtomicLongArray CASES = new AtomicLongArray(TARGETS);
    private static final AtomicLongArray REFUSED = new AtomicLongArray(TARGETS);
    private static final java.util.concurrent.atomic.AtomicLong SKIPPED = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong LIVE_OWNER_WAITS = new java.util.concurrent.atomic.AtomicLong();

    private static synchronized void setUp() throws Exception {
        if (fixture != null) {
            return;
        }
        fixture = new DamageFixture("img");
        worker = newWorker();
        selfOwnerWord = worker.submit(() -> fixture.ownerWordOfCallingThread()).get();
        headerCopy = SegmentName.posix(fixture.seg.name().toString().replace("posix:", "") + "-hdr");
        Segment.unlink(headerCopy);
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void tearDown() {
        if (fixture == null) {
            return;
        }
        StringBuilder b = new StringBuilder("damage fuzz: cases per target (refused with a documented exception):");
        long total = 0;
        for (int i = 0; i < TARGETS; i++) {
            b.append(' ').append(targetName(i)).append('=').append(CASES.get(i)).append('(').append(REFUSED.get(i)).append(')');
            total += CASES.get(i);
        }
        System.out.println(b.append(" total=").append(total).append(" (opens skipped: unpublished magic, a 2 or 3 s wait for its creator by design: ")
                .append(SKIPPED.get()).append("; waits for a lock word naming this live process, by design: ")
                .append(LIVE_OWNER_WAITS.get()).append(')'));
        worker.shutdownNow();
        Segment.unlink(headerCopy);
        fixture.close();
        fixture = null;
    }

    static String targetName(int t) {
        return t < HEADER ? DamageFixture.STRUCTURES.get(t) : t == HEADER ? "header" : t == DIRECTORY ? "directory" : "pools";
    }

    @FuzzTest(maxExecutions = 10_000, maxDuration = "240s")
    void damagedImage(FuzzedDataProvider in) throws Exception {
        setUp();
        int target = in.consumeInt(0, TARGETS - 1);
        byte[] ops = in.consumeRemainingAsBytes();
        Future<Boolean> f = worker.submit(() -> runCase(target, ops));
        boolean refused;
        try {
            refused = awaitCase(f, target);
        } catch (LiveOwnerWait voided) {
            // a lock word the damage made name this live process (e.g. a registry entry's owner
            // word copied over it): waiting is the design (a live owner is never robbed).
            // Restoring the image frees the word; the case's outcome is void.
            fixture.restore();
            fixture.restorePools();
            try {
                f.get(CASE_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException ignored) {
                // void
            }
            if (!f.isDone()) {
                throw new AssertionError("case on " + targetName(target) + " still waits after its image was restored");
            }
            LIVE_OWNER_WAITS.incrementAndGet();
            return;
        } catch (TimeoutException hang) {
            worker = newWorker(); // the stuck one is left behind (a daemon)
            AssertionError e = new AssertionError("case on " + targetName(target) + " did not end within "
                    + CASE_SECONDS + " s (hang); the case thread was at:");
            Thread t = findCaseThread();
            if (t != null) {
                Throwable where = new Throwable("case thread");
                where.setStackTrace(t.getStackTrace());
                e.initCause(where);
            }
            throw e;
        } catch (ExecutionException failed) {
            Throwable c = failed.getCause();
            if (c instanceof Error err) {
                throw err;
            }
            throw new AssertionError("case on " + targetName(target) + " failed", c);
        }
        CASES.incrementAndGet(target);
        if (refused) {
            REFUSED.incrementAndGet(target);
        }
    }

    /** A case found waiting, by design, for a lock word naming this live process. */
    private static final class LiveOwnerWait extends Exception {
        LiveOwnerWait() {
            super(null, null, false, false);
        }
    }

    /**
     * Waits for a case for at most {@link #CASE_SECONDS}, looking every {@link #POLL_MILLIS} ms
     * whether it waits for a live owner (so such a case costs a fraction of a second, not the
     * whole bound).
     */
    private static boolean awaitCase(Future<Boolean> f, int target)
            throws ExecutionException, InterruptedException, TimeoutException, LiveOwnerWait {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CASE_SECONDS);
        while (true) {
            try {
                return f.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException notYet) {
                Thread t = findCaseThread();
                if (t != null && waitsForLiveOwner(t, target)) {
                    throw new LiveOwnerWait();
                }
                if (System.nanoTime() >= deadline) {
                    throw notYet;
                }
            }
        }
    }

    /**
     * Whether the case thread waits in a robust mutex while the damaged image holds a word, put
     * there by the damage, whose owner id is this live process's registration or lacks the
     * registered bit (an owner whose liveness cannot be told, which ShmMutex never takes over:
     * fail closed, as documented). Any other wait is a hang.
     */
    private static boolean waitsForLiveOwner(Thread t, int target) {
        boolean inLock = Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals("io.shmkit.sync.ShmMutex")
                && f.getMethodName().startsWith("lock"));
        if (!inLock) {
            return false;
        }
        int me = (int) (selfOwnerWord >>> 32);
        MemorySegment m = target == POOLS ? fixture.poolBaseMemory() : fixture.view;
        byte[] pristine = target == POOLS ? fixture.poolBaseImage : fixture.image;
        MemorySegment p = MemorySegment.ofArray(pristine);
        for (long off = 0; off + 8 <= m.byteSize(); off += 8) {
            long w = m.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
            int id = (int) (w >>> 32);
            // this live process, or an id without the registered bit (liveness unknown: fail closed)
            if (id != 0 && (id == me || id > 0) && w != p.get(ValueLayout.JAVA_LONG_UNALIGNED, off)) {
                return true;
            }
        }
        return false;
    }

    private static Thread findCaseThread() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("fuzz-case")
                && t.getState() != Thread.State.TERMINATED).findFirst().orElse(null);
    }

    /** One case; {@code true} if a documented exception refused some step. */
    private static boolean runCase(int target, byte[] ops) throws IOException {
        Ops o = new Ops(ops);
        DamageFixture fx = fixture;
        if (target == POOLS) {
            fx.restorePools();
            boolean toBase = o.bit();
            MemorySegment m = toBase ? fx.poolBaseMemory() : fx.poolBlockMemory();
            long from = o.bit() ? 0 : Segment.PAGE_SIZE; // header page or the pool's own data
            Damage.apply(o, m, from, m.byteSize() - from, m.byteSize(), selfOwnerWord);
            return Checks.pools(fx, o);
        }
        fx.restore();
        MemorySegment m = fx.view;
        if (target == HEADER) {
            Damage.apply(o, m, 0, SegmentHeader.HEADER_SIZE, m.byteSize(), selfOwnerWord);
            // truncated to 1 byte or more: an empty file waits 1 s for its creator by design
            int length = o.bit() && o.bit() ? o.intIn(1, (int) m.byteSize()) : (int) m.byteSize();
            Files.write(headerCopy.path(), m.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            fx.restore();
            return Checks.openCopy(headerCopy, o);
        }
        if (target == DIRECTORY) {
            long dir = SegmentHeader.OFF_DIRECTORY;
            Damage.apply(o, m, dir, (long) SegmentHeader.DIRECTORY_ENTRIES * SegmentHeader.DirectoryRecord.BYTES,
                    m.byteSize(), selfOwnerWord);
            boolean refused = false;
            for (String name : DamageFixture.STRUCTURES) {
                refused |= Checks.structure(fx, name, o, false);
            }
            return refused;
        }
        String name = DamageFixture.STRUCTURES.get(target);
        DirectoryEntry e = fx.entries.get(name);
        // mostly the bookkeeping at the start, sometimes anywhere in the structure
        long span = o.bit() ? Math.min(e.length(), 4096) : e.length();
        Damage.apply(o, m, e.offset(), span, m.byteSize(), selfOwnerWord);
        boolean refused = Checks.structure(fx, name, o, true);
        // a bystander: damage elsewhere must never cost it a live block
        String other = DamageFixture.STRUCTURES.get(o.intIn(0, 7));
        if (!other.equals(name) && !(name.equals("registry") && other.equals("slab-locked"))) {
            refused |= Checks.structure(fx, other, o, false);
        }
        return refused;
    }

    /** Reads the fuzzer's bytes as small choices; zeros once they run out. */
    static final class Ops {
        private final byte[] b;
        private int at;
        private long bits;
        private int bitsLeft;

        Ops(byte[] b) {
            this.b = b;
        }

        boolean more() {
            return at < b.length;
        }

        int u8() {
            return at < b.length ? b[at++] & 0xFF : 0;
        }

        long u64() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v |= (long) u8() << (8 * i);
            }
            return v;
        }

        int intIn(int lo, int hi) {
            long range = (long) hi - lo + 1;
            long v = (u8() | (long) u8() << 8 | (long) u8() << 16) & 0xFFFFFFL;
            return (int) (lo + Math.floorMod(v, range));
        }

        boolean bit() {
            if (bitsLeft == 0) {
                bits = u8();
                bitsLeft = 8;
            }
            bitsLeft--;
            boolean r = (bits & 1) != 0;
            bits >>>= 1;
            return r;
        }

        @Override
        public String toString() {
            return Arrays.toString(b);
        }
    }

    /** Whether {@code t} is an exception the API documents for damaged or missing structures. */
    static boolean documented(Throwable t) {
        if (t instanceof ShmException || t instanceof TableFullException) {
            return true;
        }
        if (t instanceof IllegalArgumentException) {
            StackTraceElement[] st = t.getStackTrace();
            return st.length > 0 && st[0].getClassName().startsWith("io.shmkit.");
        }
        return false;
    }

    static final class Checks {

        private Checks() {
        }

        /** Opens and verifies every structure of a damaged (maybe truncated) segment file copy. */
        static boolean openCopy(SegmentName name, Ops o) {
            boolean refused = false;
            try (Segment s = o.bit() ? Segment.openSnapshot(name) : Segment.open(name)) {
                s.info();
                for (DirectoryEntry e : s.directory()) {
                    if (!s.isSnapshot() && (awaitsCreator(s, e.name())
                            || e.name().equals("registry") && awaitsCreator(s, "region-slab"))) {
                        continue;
                    }
                    try {
                        if (s.isSnapshot()) {
                            Inspection.lockHolder(s, e);
                            Inspection.open(s, e).ifPresent(SharedAllocator::stats);
                        } else {
                            open(s, e.name(), null).verify();
                        }
                    } catch (Throwable t) {
                        refused |= expect(t);
                    }
                }
            } catch (Throwable t) {
                refused |= expect(t);
            }
            return refused;
        }

        /** Runs {@code step}; true if a documented exception refused it. */
        private static boolean attempt(Runnable step) {
            try {
                step.run();
                return false;
            } catch (Throwable t) {
                return expect(t);
            }
        }

        private static boolean expect(Throwable t) {
            if (t instanceof AssertionError e) {
                throw e;
            }
            if (documented(t)) {
                if (TRACE) {
                    System.out.println("refused: " + t);
                }
                return true;
            }
            throw new AssertionError("undocumented " + t, t);
        }

        /** A structure opened by name, {@code null} for the table and registry (checked apart). */
        private static SharedAllocator open(Segment s, String name, Ops truncate) {
            DirectoryEntry e = s.lookup(name).orElse(null);
            long cut = truncate != null && e != null && truncate.bit() && truncate.bit() ? truncate.intIn(0, 4096) : 0;
            if (cut > 0) {
                long length = Math.max(0, e.length() - cut);
                MemorySegment m = s.memory();
                return switch (name) {
                    case "bump" -> BumpAllocator.open(m, e.offset(), length);
                    case "ring" -> RingAllocator.open(m, e.offset(), length);
                    case "fixed-locked", "fixed-cached", "fixed-single" -> FixedPool.open(m, e.offset(), length);
                    case "slab-locked", "slab-cached", "slab-single", "region-slab" -> SlabAllocator.open(m, e.offset(), length);
                    default -> new Verifying(name, () -> SharedTable.open(m, e.offset(), length, name).verify());
                };
            }
            return switch (name) {
                case "bump" -> BumpAllocator.open(s, name);
                case "ring" -> RingAllocator.open(s, name);
                case "fixed-locked", "fixed-cached", "fixed-single" -> FixedPool.open(s, name);
                case "slab-locked", "slab-cached", "slab-single", "region-slab" -> SlabAllocator.open(s, name);
                case "registry" -> new Verifying(name, () -> RegionRegistry.open(s, name).verify());
                default -> new Verifying(name, () -> SharedTable.open(s, name).verify());
            };
        }

        /**
         * Whether opening {@code name} would wait for its creator: its first word is zero (not
         * published yet) and the creator, this process, is alive. That waits 2 s by design
         * (RetryableCreationTest pins it) and then fails cleanly; the fuzzer skips it to keep
         * its pace.
         */
        static boolean awaitsCreator(Segment s, String name) {
            DirectoryEntry e = s.lookup(name).orElse(null);
            MemorySegment m = s.memory();
            boolean zero = e != null && e.offset() >= 0 && e.offset() <= m.byteSize() - 8
                    && m.get(ValueLayout.JAVA_LONG_UNALIGNED, e.offset()) == 0;
            if (zero) {
                SKIPPED.incrementAndGet();
            }
            return zero;
        }

        /** Opens, verifies and works one structure of the main segment. */
        static boolean structure(DamageFixture fx, String name, Ops o, boolean damaged) {
            if (awaitsCreator(fx.seg, name) || name.equals("registry") && awaitsCreator(fx.seg, "region-slab")) {
                return false;
            }
            try {
                if (name.equals("table")) {
                    return table(fx, o);
                }
                if (name.equals("registry")) {
                    return registry(fx, o);
                }
                SharedAllocator a = open(fx.seg, name, damaged ? o : null);
                if (a instanceof Verifying v) {
                    v.verify();
                    return false;
                }
                boolean refused = attempt(a::verify);
                return work(a, o, damaged ? List.of() : fx.liveBlocks.getOrDefault(name, List.of())) | refused;
            } catch (Throwable t) {
                return expect(t);
            }
        }

        /**
         * Allocations and frees; fails if a block is handed out while it (or a byte of it) is
         * handed out: by this case, or live in the image ({@code imageLive}, offset and size pairs).
         */
        static boolean work(SharedAllocator a, Ops o, List<Long> imageLive) {
            boolean refused = false;
            List<Long> live = new ArrayList<>();
            int n = 40 + o.u8();
            for (int i = 0; i < n; i++) {
                try {
                    int op = o.more() ? o.u8() % 8 : i % 4;
                    if (op < 5 || live.isEmpty()) {
                        long size = 1 + (o.more() ? (o.bit() && o.bit() && o.bit() ? o.u8() * 8 : o.u8() % 48) : (i * 29) % 48);
                        long align = 1L << (o.more() ? o.u8() % 7 : 3);
                        long off = a.tryAllocate(size, align);
                        if (off != 0) {
                            overlap(a.name(), live, off, size, "handed out by this case");
                            overlap(a.name(), imageLive, off, size, "live in the image");
                            live.add(off);
                            live.add(size);
                        }
                    } else if (op == 5 && a instanceof BumpAllocator b) {
                        if (imageLive.isEmpty()) {
                            b.reset();
                            live.clear();
                        }
                    } else if (op == 6 || a instanceof BumpAllocator) {
                        a.stats(); // a bump allocator frees only all at once (reset)
                    } else {
                        int k = (o.u8() % (live.size() / 2)) * 2;
                        long off = live.remove(k);
                        live.remove(k);
                        a.free(off);
                    }
                } catch (Throwable t) {
                    refused |= expect(t);
                }
            }
            return refused;
        }

        private static void overlap(String name, List<Long> live, long off, long size, String what) {
            for (int k = 0; k < live.size(); k += 2) {
                long lo = live.get(k);
                long ls = live.get(k + 1);
                if (off < lo + ls && lo < off + size) {
                    throw new AssertionError(name + ": block offset=" + off + " size=" + size
                            + " handed out while offset=" + lo + " size=" + ls + " is " + what);
                }
            }
        }

        static boolean table(DamageFixture fx, Ops o) {
            SharedTable t = SharedTable.open(fx.seg, "table");
            boolean refused = attempt(t::verify);
            RowView row = t.newRow();
            int n = 30 + o.u8() % 64;
            for (int i = 0; i < n; i++) {
                String key = "k" + (o.more() ? o.u8() % 40 : i);
                try {
                    switch (o.more() ? o.u8() % 7 : i % 7) {
                        case 0 -> t.get(key, row);
                        case 1 -> {
                            long v = 1_000_000L + i;
                            io.shmkit.table.WriteResult w = t.setLong(key, "score", v);
                            if (w == io.shmkit.table.WriteResult.FULL) {
                                continue;
                            }
                            long back = t.getLong(key, "score", -1);
                            if (back != v && !refused) {
                                // the table passed verify() and refused nothing so far: a write lost
                                throw new AssertionError("table: verify() passed, set " + key + "=" + v + " returned "
                                        + w + ", then get read " + back);
                            }
                        }
                        case 2 -> t.incr(key, "score", 3);
                        case 3 -> t.delete(key);
                        case 4 -> t.setString(key, "name", "x" + i);
                        case 5 -> t.forEach(r -> r.getLong("score"));
                        default -> t.stats();
                    }
                } catch (AssertionError e) {
                    throw e;
                } catch (Throwable e) {
                    refused |= expect(e);
                }
            }
            return refused;
        }

        static boolean registry(DamageFixture fx, Ops o) {
            RegionRegistry r = RegionRegistry.open(fx.seg, "registry");
            boolean refused = attempt(r::verify);
            refused |= attempt(r::reclaimDead);
            List<Long> live = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                try (Region region = Region.create(r, 512)) {
                    int n = 5 + o.u8() % 20;
                    for (int i = 0; i < n; i++) {
                        long size = 1 + (o.more() ? o.u8() * 8 : 100);
                        MemorySegment s = region.allocate(size);
                        overlap("region", live, s.address(), s.byteSize(), "handed out by this case");
                        live.add(s.address());
                        live.add(s.byteSize());
                    }
                } catch (Throwable e) {
                    refused |= expect(e);
                }
                live.clear();
            }
            refused |= attempt(() -> SlabAllocator.open(fx.seg, "region-slab").verify());
            return refused;
        }

        static boolean pools(DamageFixture fx, Ops o) {
            if (fx.poolBaseAwaitsCreator()) {
                SKIPPED.incrementAndGet();
                return false;
            }
            boolean refused = false;
            try (Pools pools = Pools.start(fx.poolConfig, List.of(DamageFixture.PLAYERS, DamageFixture.ITEMS))) {
                refused = attempt(pools::verify);
                Pool players = pools.pool(DamageFixture.PLAYERS);
                Pool items = pools.pool(DamageFixture.ITEMS);
                List<Long> live = new ArrayList<>();
                java.util.Set<Long> keys = new java.util.HashSet<>();
                for (long h : fx.poolHandles) {
                    try {
                        Pool p = players.isLive(h) ? players : items;
                        if (p.isLive(h)) {
                            p.get(h).get(ValueLayout.JAVA_LONG, 0);
                        }
                    } catch (Throwable e) {
                        refused |= expect(e);
                    }
                }
                int n = 10 + o.u8() % 40;
                for (int i = 0; i < n; i++) {
                    try {
                        int op = o.u8() % 5;
                        Pool p = op % 2 == 0 ? players : items;
                        if (op < 3 || live.isEmpty()) {
                            long key = 5000 + o.u8();
                            if (p == players && !keys.add(key)) {
                                continue;
                            }
                            long h = p == players ? players.forceGet(key) : items.allocate();
                            // the record's address: offset(h) is relative to the record's own chunk
                            MemorySegment rec = p.get(h);
                            long off = rec.address();
                            long size = rec.byteSize();
                            overlap("pool", live, off, size, "handed out by this case");
                            live.add(off);
                            live.add(size);
                        } else if (op == 3) {
                            long h0 = fx.poolHandles[o.u8() % fx.poolHandles.length];
                            pools.atomically(tx -> tx.write(h0).set(ValueLayout.JAVA_LONG, 0, 7L));
                        } else {
                            pools.verify();
                        }
                    } catch (Throwable e) {
                        refused |= expect(e);
                    }
                }
            } catch (Throwable e) {
                refused |= expect(e);
            }
            return refused;
        }
    }

    /** The table and the registry behind the allocator-shaped {@code open} (only verify is used). */
    private record Verifying(String name, Runnable check) implements SharedAllocator {
        @Override
        public void verify() {
            check.run();
        }

        @Override
        public MemorySegment memory() {
            throw new UnsupportedOperationException();
        }

        @Override
        public io.shmkit.alloc.SyncMode mode() {
            throw new UnsupportedOperationException();
        }

        @Override
        public long allocate(long size, long align) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long tryAllocate(long size, long align) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void free(long offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public io.shmkit.alloc.AllocatorStats stats() {
            throw new UnsupportedOperationException();
        }
    }
}
