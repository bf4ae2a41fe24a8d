package io.shmkit.segment;

/**
 * A named range reserved inside a segment with {@link Segment#reserve}, so that a structure
 * (an allocator, a lock, a table) created by one process can be found by name by another.
 *
 * @param name   the structure's name, unique within the segment (at most 32 UTF-8 bytes)
 * @param kind   a structure kind code chosen by the structure's implementation
 * @param offset offset of the range from the segment start (never 0)
 * @param length length of the range in bytes
 */
public record DirectoryEntry(String name, int kind, long offset, long length) {
}
