package io.shmkit.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Open-file-description byte-range locks ({@code fcntl(F_OFD_SETLK / F_OFD_GETLK)}), the
 * kernel-held liveness token of {@link OwnerTable}. An OFD lock belongs to the open file
 * description, not to a pid: the kernel drops it when the last descriptor of that description
 * closes, which happens at process death whatever pid namespace either side is in, and no
 * {@code /proc} access is needed to ask whether it is held. Locks beyond the end of the file
 * are allowed, so each registration slot locks one byte at {@link #BASE}{@code + slot}, far
 * past any data.
 *
 * <p>{@code struct flock} is the same on x86_64 and aarch64: {@code short l_type} at 0,
 * {@code short l_whence} at 2, {@code off_t l_start} at 8, {@code off_t l_len} at 16,
 * {@code pid_t l_pid} at 24, 32 bytes in all.
 */
public final class OfdLock {

    private OfdLock() {
    }

    /** File offset of the byte slot 0 locks: 2^62, past any file a machine can hold. */
    public static final long BASE = 1L << 62;

    static final int F_OFD_GETLK = 36;
    static final int F_OFD_SETLK = 37;
    static final short F_WRLCK = 1;
    static final short F_UNLCK = 2;
    static final short SEEK_SET = 0;

    /** {@link #probe} result: another open file description holds the byte. */
    public static final int HELD = 1;
    /** {@link #probe} result: nobody (or only the probing description itself) holds it. */
    public static final int FREE = 0;
    /** {@link #probe} result: the kernel did not answer (see errno): liveness unknown. */
    public static final int ERROR = -1;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));
    /** {@code int fcntl(int fd, int cmd, struct flock *)}: the third argument is variadic. */
    private static final MethodHandle FCNTL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("fcntl").orElseThrow(() -> new UnsatisfiedLinkError("libc has no fcntl")),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));

    private static int fcntl(int fd, int cmd, short type, long start, int[] errnoOut, short[] typeOut) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fl = a.allocate(32, 8);
            fl.set(JAVA_SHORT, 0, type);
            fl.set(JAVA_SHORT, 2, SEEK_SET);
            fl.set(JAVA_LONG, 8, start);
            fl.set(JAVA_LONG, 16, 1L);
            fl.set(JAVA_INT, 24, 0); // l_pid must be 0 for OFD commands
            MemorySegment cs = CAPTURE.get();
            int rc = (int) FCNTL.invokeExact(cs, fd, cmd, fl);
            errnoOut[0] = rc == 0 ? 0 : (int) ERRNO.get(cs, 0L);
            if (typeOut != null) {
                typeOut[0] = fl.get(JAVA_SHORT, 0);
            }
            return rc;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Takes the write lock on byte {@code BASE + slot} without waiting. Returns 0 on success,
     * else the errno ({@link Libc#EAGAIN} or {@link Libc#EACCES}: held by another description).
     * The descriptor must be open for writing.
     */
    public static int tryLock(int fd, int slot) {
        int[] err = new int[1];
        fcntl(fd, F_OFD_SETLK, F_WRLCK, BASE + slot, err, null);
        return err[0];
    }

    /** Drops this description's lock on the slot's byte (closing the descriptor does too). */
    public static void unlock(int fd, int slot) {
        fcntl(fd, F_OFD_SETLK, F_UNLCK, BASE + slot, new int[1], null);
    }

    /**
     * Whether another open file description holds the slot's byte: {@link #HELD},
     * {@link #FREE} or {@link #ERROR}. A lock held through {@code fd}'s own description does
     * not conflict with itself and reads as FREE: callers compare their own slot directly.
     */
    public static int probe(int fd, int slot) {
        int[] err = new int[1];
        short[] type = new short[1];
        int rc = fcntl(fd, F_OFD_GETLK, F_WRLCK, BASE + slot, err, type);
        if (rc != 0) {
            return ERROR;
        }
        return type[0] == F_UNLCK ? FREE : HELD;
    }
}
