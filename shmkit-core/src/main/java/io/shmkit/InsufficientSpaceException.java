package io.shmkit;

/**
 * The file system that holds a segment ({@code /dev/shm} for POSIX segments, the file's own
 * file system for file segments) cannot back the size asked for: it is full ({@code ENOSPC}
 * while reserving the space at create or grow), or it is smaller in total than the size.
 *
 * <p>Raised by {@code Segment.create}, {@code openOrCreate} and {@code grow}. Nothing is left
 * behind: a failed create removes the file it made, a failed grow keeps the old size. The
 * message names the segment, the size asked for and what the file system has, for example
 * {@code segment posix:orders size=7.0 TiB is larger than the file system of /dev/shm
 * (24.0 GiB in total, 23.9 GiB available)}.
 */
public final class InsufficientSpaceException extends ShmException {

    private static final long serialVersionUID = 1L;

    public InsufficientSpaceException(String message) {
        super(message);
    }
}
