package io.shmkit.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Process identity for dead-owner detection. A process is identified by its pid together with
 * its start time (field 22 of {@code /proc/<pid>/stat}, clock ticks since boot), so a pid that
 * the kernel reused for another process is not mistaken for the original.
 */
public final class Procs {

    private Procs() {
    }

    /** This process's pid. */
    public static final int PID = (int) ProcessHandle.current().pid();

    /** This process's start time in clock ticks since boot. */
    public static final long START_TIME = startTime(PID);

    /**
     * Inode of this process's pid namespace ({@code /proc/self/ns/pid}), 0 if it cannot be
     * read. Two processes with the same value see the same pids.
     */
    public static final long PID_NAMESPACE = readPidNamespace();

    /**
     * A random non-zero number naming this process (this run of it): unlike a pid, never shared
     * with a process in another pid namespace, nor with a later process given the same pid.
     * Single-threaded structures record it as their last user.
     */
    public static final long TOKEN = randomToken();

    private static long randomToken() {
        long t;
        java.security.SecureRandom r = new java.security.SecureRandom();
        while ((t = r.nextLong()) == 0) {
            // 0 is what a fresh or wiped word holds
        }
        return t;
    }

    /** The kernel's {@code pid_max}; pids are in {@code [1, PID_MAX)}. */
    public static final int PID_MAX = readPidMax();

    /** Start time (clock ticks since boot) of {@code pid}, or -1 if no such process exists. */
    public static long startTime(long pid) {
        if (pid <= 0 || pid >= Integer.MAX_VALUE) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
            int close = stat.lastIndexOf(')');
            if (close < 0) {
                return -1;
            }
            String[] f = stat.substring(close + 2).split(" ");
            // f[0] is field 3 (state); field 22 (starttime) is f[19]
            if (f.length < 20) {
                return -1;
            }
            if (f[0].equals("Z") || f[0].equals("X")) {
                return -1; // a zombie holds no memory and will never unlock anything
            }
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Whether the process {@code pid} that started at {@code startTime} still runs. A start time
     * of 0 means "unknown": then only the pid is checked.
     */
    public static boolean isAlive(long pid, long startTime) {
        long actual = startTime(pid);
        if (actual < 0) {
            return false;
        }
        return startTime == 0 || actual == startTime;
    }

    /** Whether a pid value is plausible at all (inside {@code [1, pid_max)}). */
    public static boolean isValidPid(long pid) {
        return pid > 0 && pid < PID_MAX;
    }

    /**
     * Whether {@code pid} is gone, from positive evidence only, for a caller in the same pid
     * namespace as that process: {@code kill(pid, 0)} fails with ESRCH (no such process,
     * whatever hidepid hides), or {@code /proc/<pid>/stat} is readable and shows a zombie or a
     * different start time (the pid was reused). Anything the system cannot tell is "not gone".
     *
     * @param startTime the start time recorded by the process, 0 if none
     */
    public static boolean isGone(int pid, long startTime) {
        if (pid <= 0) {
            return false;
        }
        if (Libc.kill(pid, 0) != 0 && Libc.errno() == ESRCH) {
            return true;
        }
        if (startTime == 0) {
            return false;
        }
        long actual = startTime(pid); // -1 also when unreadable (hidepid): then not evidence
        return actual >= 0 && actual != startTime;
    }

    private static final int ESRCH = 3;

    private static long readPidNamespace() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString(); // "pid:[4026531836]"
            int open = link.indexOf('[');
            int close = link.indexOf(']');
            return open >= 0 && close > open ? Long.parseLong(link.substring(open + 1, close)) : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static int readPidMax() {
        try {
            // Not Files.readString: on some kernels/sandboxes it trusts the size procfs reports
            // and returns a truncated value ("3" for 32768); a stream reads to the real end.
            try (var in = Files.newInputStream(Path.of("/proc/sys/kernel/pid_max"))) {
                return Integer.parseInt(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim());
            }
        } catch (IOException | RuntimeException e) {
            return 4 * 1024 * 1024; // PID_MAX_LIMIT on 64-bit Linux
        }
    }
}
