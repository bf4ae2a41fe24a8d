package io.shmkit.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C library calls shmkit makes, as FFM downcalls. Linux x86_64 and aarch64 (glibc or
 * musl). Every call that can fail captures {@code errno}; failures become a return of -1 (or
 * {@link #MAP_FAILED}) and {@link #errno()} tells why. Mapping errno to exceptions happens in
 * one place, {@link Errors}.
 *
 * <p>Not exported: the API packages wrap these calls.
 */
public final class Libc {

    private Libc() {
    }

    // open(2) flags (Linux generic values, identical on x86_64 and aarch64)
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;

    // mmap(2)
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final long MAP_FAILED = -1L;
    public static final int MADV_HUGEPAGE = 14;

    // System V shared memory
    public static final int IPC_CREAT = 01000;
    public static final int IPC_EXCL = 02000;
    public static final int IPC_RMID = 0;
    public static final int IPC_STAT = 2;
    public static final int SHM_HUGETLB = 04000;
    public static final int SHM_RDONLY = 010000;

    // futex(2)
    public static final int FUTEX_WAIT = 0;
    public static final int FUTEX_WAKE = 1;
    public static final int FUTEX_CMP_REQUEUE = 4;
    public static final long SYS_FUTEX = isAarch64() ? 98 : 202;

    // errno values used by callers
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ELOOP = 40;
    public static final int ETIMEDOUT = 110;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** One errno capture buffer per thread; GC-managed so threads that end release it. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static final MethodHandle OPEN = capturing("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = capturing("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FTRUNCATE = capturing("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FCHMOD = capturing("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FSTAT = capturing("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FALLOCATE = plain("posix_fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FSTATVFS = capturing("fstatvfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle UNLINK = capturing("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle MMAP = capturing("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = capturing("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MPROTECT = capturing("mprotect", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MADVISE = capturing("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SHMGET = capturing("shmget", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SHMAT = capturing("shmat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SHMDT = capturing("shmdt", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    private static final MethodHandle SHMCTL = capturing("shmctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle GETEUID = plain("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle KILL = capturing("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    /** {@code long syscall(long number, ...)} used for futex with six variadic long arguments. */
    private static final MethodHandle SYSCALL6 = LINKER.downcallHandle(symbol("syscall"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    private static MethodHandle capturing(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(symbol(name), fd, CAPTURE_ERRNO);
    }

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(symbol(name), fd);
    }

    public static boolean isAarch64() {
        String arch = System.getProperty("os.arch", "");
        return arch.equals("aarch64") || arch.equals("arm64");
    }

    /** The errno captured by the last failing call on this thread. */
    public static int errno() {
        return (int) ERRNO.get(CAPTURE.get(), 0L);
    }

    private static MemorySegment cs() {
        return CAPTURE.get();
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(cs(), a.allocateFrom(path), flags, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(cs(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ftruncate(int fd, long length) {
        try {
            return (int) FTRUNCATE.invokeExact(cs(), fd, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fchmod(int fd, int mode) {
        try {
            return (int) FCHMOD.invokeExact(cs(), fd, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The result of {@code fstat}: size, mode bits, owner, and 512-byte blocks allocated. */
    public record Stat(long size, int mode, int uid, long blocks) {

        private static final int S_IFMT = 0170000;
        private static final int S_IFREG = 0100000;

        /** Whether this is a regular file (not a FIFO, socket, device, directory or link). */
        public boolean isRegular() {
            return (mode & S_IFMT) == S_IFREG;
        }

        /** A word for the file type, for messages: "regular file", "FIFO", "directory" ... */
        public String typeName() {
            return switch (mode & S_IFMT) {
                case S_IFREG -> "regular file";
                case 0010000 -> "FIFO";
                case 0020000 -> "character device";
                case 0040000 -> "directory";
                case 0060000 -> "block device";
                case 0120000 -> "symbolic link";
                case 0140000 -> "socket";
                default -> "file of type 0" + Integer.toOctalString(mode & S_IFMT);
            };
        }
    }

    /** {@code fstat(fd)}, or null on failure (see {@link #errno()}). */
    public static Stat fstat(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256, 16);
            int rc = (int) FSTAT.invokeExact(cs(), fd, buf);
            if (rc != 0) {
                return null;
            }
            // struct stat: x86_64 has st_mode at 24 and st_uid at 28; the asm-generic layout
            // (aarch64) has st_mode at 16 and st_uid at 24. st_size is at 48, st_blocks at 64 on both.
            boolean generic = isAarch64();
            int mode = buf.get(JAVA_INT, generic ? 16 : 24);
            int uid = buf.get(JAVA_INT, generic ? 24 : 28);
            long size = buf.get(JAVA_LONG, 48);
            long blocks = buf.get(JAVA_LONG, 64); // st_blocks: 64 on both layouts
            return new Stat(size, mode, uid, blocks);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The part of {@code struct statvfs} shmkit reads: sizes in bytes. */
    public record StatVfs(long totalBytes, long availableBytes) {
    }

    /** {@code fstatvfs(fd)}, or null on failure (see {@link #errno()}). */
    public static StatVfs fstatvfs(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(128, 16);
            int rc = (int) FSTATVFS.invokeExact(cs(), fd, buf);
            if (rc != 0) {
                return null;
            }
            // 64-bit glibc and musl: f_bsize 0, f_frsize 8, f_blocks 16, f_bfree 24, f_bavail 32
            long frsize = buf.get(JAVA_LONG, 8);
            if (frsize == 0) {
                frsize = buf.get(JAVA_LONG, 0);
            }
            return new StatVfs(buf.get(JAVA_LONG, 16) * frsize, buf.get(JAVA_LONG, 32) * frsize);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code posix_fallocate}: returns 0 or the error number (it does not set errno). */
    public static int fallocate(int fd, long offset, long length) {
        try {
            return (int) FALLOCATE.invokeExact(fd, offset, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int unlink(String path) {
        try (Arena a = Arena.ofConfined()) {
            return (int) UNLINK.invokeExact(cs(), a.allocateFrom(path));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try {
            return (long) MMAP.invokeExact(cs(), addr, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int munmap(long addr, long length) {
        try {
            return (int) MUNMAP.invokeExact(cs(), addr, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int mprotect(long addr, long length, int prot) {
        try {
            return (int) MPROTECT.invokeExact(cs(), addr, length, prot);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int madvise(long addr, long length, int advice) {
        try {
            return (int) MADVISE.invokeExact(cs(), addr, length, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int shmget(int key, long size, int flags) {
        try {
            return (int) SHMGET.invokeExact(cs(), key, size, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long shmat(int id, long addr, int flags) {
        try {
            return (long) SHMAT.invokeExact(cs(), id, addr, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int shmdt(long addr) {
        try {
            return (int) SHMDT.invokeExact(cs(), addr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The part of {@code struct shmid_ds} shmkit reads. */
    public record ShmidDs(long size, int uid, int mode, int creatorPid, long attached) {
    }

    /** {@code shmctl(id, IPC_STAT)}, or null on failure. */
    public static ShmidDs shmStat(int id) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256, 16);
            int rc = (int) SHMCTL.invokeExact(cs(), id, IPC_STAT, buf);
            if (rc != 0) {
                return null;
            }
            // struct ipc_perm is 48 bytes on 64-bit Linux: key, uid, gid, cuid, cgid (5 x u32),
            // mode (u32 on generic, u16+pad on x86_64: read the low 16 bits), seq, pads.
            int uid = buf.get(JAVA_INT, 4);
            int mode = buf.get(JAVA_INT, 20) & 0xFFFF;
            long size = buf.get(JAVA_LONG, 48);
            // shm_atime 56, shm_dtime 64, shm_ctime 72, shm_cpid 80, shm_lpid 84, shm_nattch 88
            int cpid = buf.get(JAVA_INT, 80);
            long nattch = buf.get(JAVA_LONG, 88);
            return new ShmidDs(size, uid, mode, cpid, nattch);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int shmRemove(int id) {
        try {
            return (int) SHMCTL.invokeExact(cs(), id, IPC_RMID, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code kill(pid, sig)}; with sig 0 it only probes whether the pid exists. */
    public static int kill(int pid, int sig) {
        try {
            return (int) KILL.invokeExact(cs(), pid, sig);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String strerror(int errno) {
        try {
            MemorySegment p = (MemorySegment) STRERROR.invokeExact(errno);
            return p.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code futex(uaddr, FUTEX_WAIT, expected, timeout)} on a shared (not private) futex so it
     * works across processes. Returns 0 when woken, -1 with errno EAGAIN (value changed),
     * ETIMEDOUT or EINTR.
     *
     * @param address  native address of a 4-byte aligned int inside a shared mapping
     * @param timespec address of a {@code struct timespec} (relative timeout) or 0 for none
     */
    public static long futexWait(long address, int expected, long timespec) {
        try {
            return (long) SYSCALL6.invokeExact(cs(), SYS_FUTEX, address, (long) FUTEX_WAIT, (long) expected, timespec, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code futex(uaddr, FUTEX_WAKE, count)}; returns the number of waiters woken. */
    public static long futexWake(long address, int count) {
        try {
            return (long) SYSCALL6.invokeExact(cs(), SYS_FUTEX, address, (long) FUTEX_WAKE, (long) count, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code futex(uaddr, FUTEX_CMP_REQUEUE, wake, requeue, uaddr2, expected)} on shared
     * futexes: if the int at {@code address} still equals {@code expected}, wakes up to
     * {@code wake} waiters and moves up to {@code requeue} more to wait on {@code address2}.
     * Returns the number woken plus moved, or -1 with errno EAGAIN (the value changed).
     */
    public static long futexCmpRequeue(long address, int wake, int requeue, long address2, int expected) {
        try {
            return (long) SYSCALL6.invokeExact(cs(), SYS_FUTEX, address, (long) FUTEX_CMP_REQUEUE, (long) wake,
                    (long) requeue, address2, (long) expected);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
