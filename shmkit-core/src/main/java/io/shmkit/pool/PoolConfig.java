package io.shmkit.pool;

import io.shmkit.internal.PoolBaseLayout;
import io.shmkit.internal.PoolBlockLayout;
import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The shared memory of one server process section: its base segment ({@code BaseKey}), the
 * size of every data block ({@code BlockSize}) and the data block segments ({@code ShmKey}
 * list), as in the seed's {@code memorypool.ini}. Build it in code or load it with
 * {@link PoolConfigFile}. Validated on construction: nothing touches shared memory yet.
 *
 * @param process   the process section's name (for messages and the owner check)
 * @param baseKey   the base segment (System V key or POSIX name)
 * @param blockSize bytes of each data block segment, header included (multiple of 4096)
 * @param blockKeys the data block segments, in block index order
 * @param undoBytes bytes of the transaction undo log in the base segment
 */
public record PoolConfig(String process, SegmentName baseKey, long blockSize, List<SegmentName> blockKeys,
                         long undoBytes) {

    /** Smallest block: the segment header page plus one page of data. */
    public static final long MIN_BLOCK_SIZE = Segment.MIN_SIZE;

    public PoolConfig {
        Objects.requireNonNull(process, "process");
        Objects.requireNonNull(baseKey, "baseKey");
        blockKeys = List.copyOf(blockKeys);
        if (process.isBlank()) {
            throw new PoolConfigException("process name is empty");
        }
        if (blockSize < MIN_BLOCK_SIZE || blockSize % Segment.PAGE_SIZE != 0 || blockSize > (1L << 40)) {
            throw new PoolConfigException("process '" + process + "': BlockSize=" + blockSize
                    + " must be a multiple of 4096 between " + MIN_BLOCK_SIZE + " and 2^40");
        }
        if (blockKeys.isEmpty()) {
            throw new PoolConfigException("process '" + process + "' has no data block (ShmKey list is empty)");
        }
        if (blockKeys.size() > PoolBaseLayout.MAX_BLOCKS) {
            throw new PoolConfigException("process '" + process + "' lists " + blockKeys.size()
                    + " data blocks; at most " + PoolBaseLayout.MAX_BLOCKS);
        }
        if (undoBytes < 4096) {
            throw new PoolConfigException("process '" + process + "': undo log of " + undoBytes + " bytes is too small (minimum 4096)");
        }
        Set<SegmentName> seen = new HashSet<>();
        checkKey(process, baseKey);
        seen.add(baseKey);
        for (SegmentName k : blockKeys) {
            checkKey(process, k);
            if (!seen.add(k)) {
                throw new PoolConfigException("process '" + process + "' lists key " + k + " twice");
            }
        }
    }

    /** A configuration with the default undo log size (1 MiB). */
    public static PoolConfig of(String process, SegmentName baseKey, long blockSize, List<SegmentName> blockKeys) {
        return new PoolConfig(process, baseKey, blockSize, blockKeys, PoolBaseLayout.DEFAULT_UNDO_BYTES);
    }

    /** Bytes of a data block that can hold chunks of objects. */
    public long usableBlockBytes() {
        return blockSize - Segment.PAGE_SIZE - PoolBlockLayout.HEADER_BYTES;
    }

    private static void checkKey(String process, SegmentName k) {
        switch (k.backend()) {
            case POSIX, SYSV -> {
            }
            default -> throw new PoolConfigException("process '" + process + "': key " + k
                    + " must be a System V key or a POSIX name");
        }
        if (k.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= PoolBaseLayout.KEY_BYTES) {
            throw new PoolConfigException("process '" + process + "': key " + k + " is longer than "
                    + (PoolBaseLayout.KEY_BYTES - 1) + " bytes");
        }
    }
}
