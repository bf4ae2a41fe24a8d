package io.shmkit.cli;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shmkit.alloc.BumpAllocator;
import io.shmkit.alloc.FixedPool;
import io.shmkit.alloc.RegionRegistry;
import io.shmkit.alloc.RingAllocator;
import io.shmkit.alloc.SlabAllocator;
import io.shmkit.alloc.SyncMode;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;
import org.junit.jupiter.api.AfterAll;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Coverage-guided fuzzing (Jazzer) of the command line: fuzzed arguments to every
 * non-interactive subcommand, against a segment whose bytes the case damaged (header,
 * directory, allocators, table). Each run must exit 0, 1, 2 (usage), 3 (absent), 4 or 5
 * (present) within {@link #CASE_SECONDS} s; a failure prints exactly one non-empty line on
 * stderr; and the exception behind an exit 1 (re-run with --verbose) is one shmkit documents
 * (a ShmException, an IllegalArgumentException, an I/O error naming the file), never a JDK
 * bounds or state check escaping from a damaged image.
 */
class CliFuzzer {

    static final int CASE_SECONDS = 20;
    private static final String PREFIX = "shmkit-clifuzz-" + ProcessHandle.current().pid() + "-";
    private static final Set<Integer> EXITS = Set.of(0, 1, 2, 3, 4, 5);
    private static final String[] SIZES = {"64k", "8k", "0", "-1", "7t", "1x", "99999999999999999999k", "4097", "12k"};
    private static final String[] TOKENS = {"--json", "--verify", "--force", "--help", "-v", "--size", "--mode",
            "--rows", "--key-size", "--column", "--process", "--dir", "--backend", "posix", "sysv", "file", "600",
            "0777", "9z", "name:string:8", "score:int64", "x:bytes:4", "level:int32", "ratio:float64", "score", "name",
            "alice", "k1", "score=5", "name=abc", "blob=00ff", "-", "", "=", "1", "-5", "9223372036854775807"};

    private static Segment seg;
    private static String segName;
    private static byte[] image;
    /**
     * The segment's memory as mapped at set-up. The cases damage the header too (its size and
     * resize generation among it), so asking the segment for its memory again would, correctly,
     * refuse the damaged header as a truncation; restoring the image needs the original view.
     */
    private static MemorySegment view;
    private static String tableName;
    private static ExecutorService worker;
    private static final AtomicLong CASES = new AtomicLong();
    private static final AtomicLong FAILED_RUNS = new AtomicLong();

    private static synchronized void setUp() throws Exception {
        if (seg != null) {
            return;
        }
        segName = PREFIX + "seg";
        seg = Segment.create(SegmentName.posix(segName), 256 * 1024);
        BumpAllocator.create(seg, "bump", 8192, 1024).allocate(100);
        RingAllocator r = RingAllocator.create(seg, "ring", 8192);
        r.allocate(200);
        FixedPool f = FixedPool.create(seg, "fixed", 48, 64, 8, SyncMode.LOCKED);
        f.free(f.allocate(10));
        f.allocate(20);
        SlabAllocator s = SlabAllocator.create(seg, "slab", 8, 2048, SyncMode.THREAD_CACHED);
        s.allocate(30);
        RegionRegistry.create(seg, "regions", s, 4, 8);
        SharedTable t = SharedTable.create(seg, "table", TableSchema.builder(16).string("name", 8).int64("score").build(), 16);
        t.setLong("alice", "score", 10);
        t.setString("k1", "name", "x");
        view = seg.memory();
        image = view.toArray(ValueLayout.JAVA_BYTE);
        // a segment holding only a table, for the table subcommands
        tableName = PREFIX + "table";
        Segment ts = Segment.create(SegmentName.posix(tableName),
                SharedTable.segmentSize(TableSchema.builder(16).string("name", 8).int64("score").build(), 16));
        SharedTable.create(ts, SharedTable.DEFAULT_NAME, TableSchema.builder(16).string("name", 8).int64("score").build(), 16)
                .setLong("alice", "score", 1);
        ts.close();
        worker = Executors.newSingleThreadExecutor(run -> {
            Thread th = new Thread(run, "cli-fuzz-case");
            th.setDaemon(true);
            return th;
        });
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (seg == null) {
            return;
        }
        System.out.println("cli fuzz: runs=" + CASES.get() + " failed (exit 1 or 2, one line each)=" + FAILED_RUNS.get());
        worker.shutdownNow();
        seg.closeAndUnlink();
        seg = null;
        try (var files = Files.list(Path.of("/dev/shm"))) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @FuzzTest(maxExecutions = 3_000, maxDuration = "30s")
    void cli(FuzzedDataProvider in) throws Exception {
        setUp();
        // damage: a few byte runs anywhere in the segment (header, directory, structures)
        MemorySegment m = view;
        MemorySegment.copy(image, 0, m, ValueLayout.JAVA_BYTE, 0, image.length);
        int damages = in.consumeInt(0, 6);
        for (int i = 0; i < damages; i++) {
            long at = in.consumeBoolean() ? in.consumeInt(0, 8191) : in.consumeInt(0, (int) m.byteSize() - 8);
            if (in.consumeBoolean()) {
                m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, in.consumeLong());
            } else {
                m.set(ValueLayout.JAVA_BYTE, at, in.consumeByte());
            }
        }
        List<String> args = arguments(in);
        String[] argv = args.toArray(String[]::new);
        Future<String> f = worker.submit(() -> check(argv));
        try {
            String problem = f.get(CASE_SECONDS, TimeUnit.SECONDS);
            if (problem != null) {
                throw new AssertionError("shmkit " + String.join(" ", argv) + ": " + problem);
            }
        } catch (TimeoutException hang) {
            throw new AssertionError("shmkit " + String.join(" ", argv) + " did not end within " + CASE_SECONDS + " s");
        }
        CASES.incrementAndGet();
    }

    private static List<String> arguments(FuzzedDataProvider in) {
        List<String> a = new ArrayList<>();
        String target = switch (in.consumeInt(0, 3)) {
            case 0 -> segName;
            case 1 -> "posix:" + segName;
            case 2 -> PREFIX + "missing";
            default -> in.consumeString(40);
        };
        switch (in.consumeInt(0, 9)) {
            case 0 -> a.addAll(List.of("info", target));
            case 1 -> a.addAll(List.of("stat", target));
            case 2 -> a.addAll(List.of("stat", "--verify", target));
            case 3 -> a.add("ls");
            case 4 -> {
                a.addAll(List.of("create", PREFIX + "c" + in.consumeInt(0, 3), "--size", SIZES[in.consumeInt(0, SIZES.length - 1)]));
            }
            case 5 -> a.addAll(List.of("rm", PREFIX + "gone" + in.consumeInt(0, 3)));
            case 6 -> {
                String[] sub = {"get", "set", "incr", "del", "add", "update", "dump", "info", "keys", "cas"};
                a.addAll(List.of("table", sub[in.consumeInt(0, sub.length - 1)], in.consumeBoolean() ? tableName : target));
            }
            case 7 -> a.addAll(List.of("info", "--json", target));
            case 8 -> a.addAll(List.of("table", "create", PREFIX + "t" + in.consumeInt(0, 3), "--rows", "" + in.consumeInt(-2, 64)));
            default -> a.add(in.consumeString(20));
        }
        int extra = in.consumeInt(0, 5);
        for (int i = 0; i < extra; i++) {
            a.add(in.consumeBoolean() ? TOKENS[in.consumeInt(0, TOKENS.length - 1)] : in.consumeString(24));
        }
        // the only subcommands left out: the ones that start processes or run until stopped
        if (Set.of("demo", "demo-peer", "zone-worker", "torture", "torture-worker").contains(a.getFirst())) {
            a.set(0, "ls");
        }
        // sizes only from the list: a fuzzed one could fill /dev/shm
        for (int i = 0; i + 1 < a.size(); i++) {
            if (a.get(i).equals("--size") && !List.of(SIZES).contains(a.get(i + 1))) {
                a.set(i + 1, "64k");
            }
        }
        return a;
    }

    /** Runs the command; null if it behaved, else what went wrong. */
    private static String check(String[] argv) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(argv, new PrintWriter(out), new PrintWriter(err));
        if (!EXITS.contains(rc)) {
            return "exit " + rc + ", stderr: " + err;
        }
        // -v, --verbose, or a cluster of short options that starts with v ("-vx" is "-v -x" to picocli,
        // which sets verbose before it refuses the unknown "-x")
        boolean verbose = List.of(argv).stream().anyMatch(a -> a.equals("--verbose") || a.startsWith("-v"));
        if (rc == 1 || rc == 2) {
            FAILED_RUNS.incrementAndGet();
        }
        if ((rc == 1 || rc == 2) && !verbose) { // --verbose adds the stack trace, as documented
            List<String> lines = err.toString().lines().toList();
            if (lines.size() != 1 || lines.getFirst().isBlank()) {
                return "exit " + rc + " with " + lines.size() + " lines on stderr: " + err;
            }
        }
        if (rc == 1) {
            List<String> withTrace = new ArrayList<>(List.of(argv));
            withTrace.addFirst("--verbose");
            StringWriter err2 = new StringWriter();
            Main.run(withTrace.toArray(String[]::new), new PrintWriter(new StringWriter()), new PrintWriter(err2));
            String type = err2.toString().lines().skip(1).findFirst().orElse("");
            type = type.contains(":") ? type.substring(0, type.indexOf(':')) : type.strip();
            if (!type.isEmpty() && !documented(type)) {
                return "undocumented exception behind exit 1: " + err2;
            }
        }
        return null;
    }

    private static boolean documented(String type) {
        try {
            Class<?> c = Class.forName(type);
            return io.shmkit.ShmException.class.isAssignableFrom(c) || IllegalArgumentException.class.isAssignableFrom(c)
                    || java.io.IOException.class.isAssignableFrom(c) || java.io.UncheckedIOException.class.isAssignableFrom(c)
                    || io.shmkit.table.TableFullException.class.isAssignableFrom(c)
                    || picocli.CommandLine.PicocliException.class.isAssignableFrom(c);
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
