package io.shmkit.internal;

import io.shmkit.InsufficientSpaceException;
import io.shmkit.NativeException;
import io.shmkit.SegmentExistsException;
import io.shmkit.SegmentNotFoundException;
import io.shmkit.ShmException;
import io.shmkit.ShmPermissionException;

/** The one place where an {@code errno} becomes an exception. */
public final class Errors {

    private Errors() {
    }

    /**
     * Maps the errno of a failed call to the most specific {@link ShmException}.
     *
     * @param call  the failed call, e.g. {@code "open"}
     * @param what  what the call was about, e.g. {@code "segment posix:orders"}
     * @param errno the captured errno
     */
    public static ShmException fromErrno(String call, String what, int errno) {
        String msg = what + ": " + call + " failed: " + Libc.strerror(errno) + " (errno=" + errno + ")";
        return switch (errno) {
            case Libc.ENOENT -> new SegmentNotFoundException(what + " does not exist (" + call + ": "
                    + Libc.strerror(errno) + ")");
            case Libc.EEXIST -> new SegmentExistsException(what + " already exists (" + call + ": "
                    + Libc.strerror(errno) + ")");
            case Libc.EACCES, Libc.EPERM -> new ShmPermissionException(what + ": permission denied for uid="
                    + Libc.geteuid() + " (" + call + ": " + Libc.strerror(errno) + ")");
            case Libc.ENOSPC, Libc.EFBIG -> new InsufficientSpaceException(what + ": no space left on the file system ("
                    + call + ": " + Libc.strerror(errno) + ")");
            default -> new NativeException(call, errno, msg);
        };
    }

    /** Same as {@link #fromErrno(String, String, int)} with the calling thread's last errno. */
    public static ShmException lastError(String call, String what) {
        return fromErrno(call, what, Libc.errno());
    }
}
