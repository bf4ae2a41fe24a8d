package io.shmkit.cli;

import io.shmkit.alloc.FixedPool;
import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.Segments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tool never hangs and always answers in one line (issue 8, findings 6, 8 and 9): a FIFO
 * in /dev/shm, an allocator lock held by a stopped process, a size larger than /dev/shm,
 * usage errors (exit 2), and removing foreign files with --force.
 */
class CliRobustnessTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final String PREFIX = "shmkit-clirobust-" + ProcessHandle.current().pid() + "-";
    private final List<Path> paths = new ArrayList<>();
    private final List<Process> children = new ArrayList<>();

    private String name(String tag) {
        paths.add(Path.of("/dev/shm", PREFIX + tag));
        return PREFIX + tag;
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    private static CliTest.Result run(String... args) {
        return assertTimeoutPreemptively(LIMIT, () -> CliTest.run(args), () -> "shmkit " + String.join(" ", args) + " hung");
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd)).isZero();
    }

    @Test
    void aFifoInDevShmIsRefusedAtOnceByInfoRmAndLs() throws Exception {
        String n = name("fifo");
        sh("mkfifo", "/dev/shm/" + n);
        CliTest.Result info = run("info", n);
        assertThat(info.status()).isEqualTo(1);
        assertThat(info.err().lines().count()).isEqualTo(1);
        assertThat(info.err()).contains("is a FIFO").contains("not a regular file");
        CliTest.Result rm = run("rm", n);
        assertThat(rm.status()).isEqualTo(1);
        assertThat(rm.err()).contains("is a FIFO").doesNotContain("--force");
        CliTest.Result forced = run("rm", "--force", n);
        assertThat(forced.status()).as("--force never removes a non-regular file").isEqualTo(1);
        assertThat(Files.exists(Path.of("/dev/shm", n), java.nio.file.LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(run("ls").status()).isZero();
        assertThat(run("stat", n).err()).contains("is a FIFO");
    }

    @Test
    void rmForceRemovesEmptyZeroedAndForeignRegularFilesButNeverFollowsALink() throws Exception {
        String empty = name("empty");
        Files.createFile(Path.of("/dev/shm", empty));
        String zeroed = name("zeroed");
        Files.write(Path.of("/dev/shm", zeroed), new byte[8192]);
        String foreign = name("foreign");
        Files.writeString(Path.of("/dev/shm", foreign), "not shared memory at all ".repeat(400));
        for (String n : List.of(empty, zeroed, foreign)) {
            CliTest.Result refused = run("rm", n);
            assertThat(refused.status()).isEqualTo(1);
            assertThat(refused.err().lines().count()).isEqualTo(1);
            assertThat(refused.err()).contains("'shmkit rm --force' removes it");
            CliTest.Result removed = run("rm", "--force", n);
            assertThat(removed.status()).as(removed.err()).isZero();
            assertThat(removed.out()).contains("removed posix:" + n).contains("not a usable segment");
            assertThat(Files.exists(Path.of("/dev/shm", n))).isFalse();
        }
        Path target = Files.createTempFile("shmkit-link-target", ".txt");
        try {
            Files.writeString(target, "keep me");
            String link = name("link");
            Files.createSymbolicLink(Path.of("/dev/shm", link), target);
            CliTest.Result forced = run("rm", "--force", link);
            assertThat(forced.status()).isEqualTo(1);
            assertThat(forced.err()).contains("symbolic link");
            assertThat(Files.readString(target)).isEqualTo("keep me");
        } finally {
            Files.delete(target);
        }
    }

    @Test
    void statDoesNotWaitForALockHeldByAStoppedProcessNamesItAndDoesNotRegister() throws Exception {
        String n = name("stopped");
        SegmentName seg = SegmentName.posix(n);
        try (Segment s = Segment.create(seg, 1 << 20)) {
            FixedPool.create(s, "pool", 64, 100);
            Process holder = new ProcessBuilder(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                    "-XX:TieredStopAtLevel=1", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                    LockHolder.class.getName(), seg.toString(), "pool").redirectErrorStream(true).start();
            children.add(holder);
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String held = assertTimeoutPreemptively(LIMIT, out::readLine);
            assertThat(held).startsWith("HELD");
            sh("kill", "-STOP", Long.toString(holder.pid()));
            List<AttachedProcess> before = Segments.inspect(seg).attached();

            CliTest.Result stat = run("stat", n);
            assertThat(stat.status()).as(stat.err()).isZero();
            assertThat(stat.out()).contains("pool (fixed-pool)")
                    .contains("lock held by pid " + holder.pid() + " (stopped): figures read without the lock")
                    .contains("capacity 6400");
            CliTest.Result verify = run("stat", "--verify", "--json", n);
            assertThat(verify.out()).contains("\"lockHolder\":{\"pid\":" + holder.pid() + ",\"state\":\"stopped\"}")
                    .contains("skipped: the lock is held by pid " + holder.pid() + " (stopped)");
            assertThat(Segments.inspect(seg).attached()).as("stat did not register").isEqualTo(before);
            assertThat(s.info().attached()).hasSize(2); // the creator and the holder
            sh("kill", "-CONT", Long.toString(holder.pid()));
        } finally {
            Segment.unlink(seg);
        }
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    @Test
    void aSizeLargerThanDevShmFailsInOneLineAndLeavesNothing() {
        String n = name("huge");
        CliTest.Result r = run("create", n, "--size", "7t");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err().lines().count()).isEqualTo(1);
        assertThat(r.err()).startsWith("shmkit: error: segment posix:" + n + " size=7.0 TiB is larger than the file system of /dev/shm");
        assertThat(Files.exists(Path.of("/dev/shm", n))).isFalse();
    }

    @Test
    void aSegmentTruncatedByAnotherProcessIsReportedInOneLine() throws Exception {
        String n = name("truncated");
        assertThat(run("create", n, "--size", "64k").status()).isZero();
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile("/dev/shm/" + n, "rw")) {
            f.setLength(8192); // another process cuts the file below the size its header records
        }
        for (String cmd : List.of("info", "stat")) {
            CliTest.Result r = run(cmd, n);
            assertThat(r.status()).isEqualTo(1);
            assertThat(r.err().lines().count()).isEqualTo(1);
            assertThat(r.err()).contains("is truncated: header records size=65536 but the backing object has size=8192");
        }
        CliTest.Result rm = run("rm", n);
        assertThat(rm.err()).contains("'shmkit rm --force' removes it");
        assertThat(run("rm", "--force", n).status()).isZero();
    }

    @Test
    void usageErrorsExitTwoRuntimeErrorsExitOneAndHelpSaysSo() {
        CliTest.Result unknownOption = run("create", name("u1"), "--size", "64k", "--bogus");
        assertThat(unknownOption.status()).isEqualTo(2);
        assertThat(unknownOption.err().lines().count()).isEqualTo(1);
        assertThat(unknownOption.err()).contains("--bogus").contains("see 'shmkit create --help'");
        CliTest.Result missingSize = run("create", name("u2"));
        assertThat(missingSize.status()).isEqualTo(2);
        assertThat(missingSize.err().lines().count()).isEqualTo(1);
        CliTest.Result badMode = run("create", name("u3"), "--size", "64k", "--mode", "9z");
        assertThat(badMode.status()).isEqualTo(2);
        CliTest.Result missing = run("info", name("u4"));
        assertThat(missing.status()).isEqualTo(1);
        CliTest.Result help = run("--help");
        assertThat(help.out()).contains("Exit status:").contains("2   a usage error").contains("1   an error while running");
    }

    @Test
    void anErrorFromAFaultIsOneLineToo() throws Exception {
        Path dir = Files.createTempDirectory("shmkit-cli-tmpfs-");
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        if (!mounted) {
            System.err.println("SKIPPED: cannot mount a private tmpfs: " + new String(mount.getInputStream().readAllBytes()));
            Files.delete(dir);
        }
        assumeTrue(mounted, "mount -t tmpfs refused");
        try {
            Files.write(dir.resolve("filler"), new byte[64 * 1024]); // the file system is full
            // a sparse segment is the documented opt-in whose first touch faults on a full file system
            CliTest.Result r = run("create", "file:" + dir.resolve("sparse"), "--size", "64k", "--sparse");
            assertThat(r.status()).isEqualTo(1);
            assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).startsWith("shmkit: error: ").contains("SIGBUS");
            assertThat(Files.exists(dir.resolve("sparse"))).as("the half-made segment is removed").isFalse();
            CliTest.Result reserved = run("create", "file:" + dir.resolve("reserved"), "--size", "64k");
            assertThat(reserved.status()).isEqualTo(1);
            assertThat(reserved.err()).contains("cannot reserve 64.0 KiB");
        } finally {
            new ProcessBuilder("umount", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
            Files.deleteIfExists(dir.resolve("filler"));
            Files.delete(dir);
        }
    }
}
