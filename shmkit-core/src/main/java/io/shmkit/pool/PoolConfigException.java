package io.shmkit.pool;

/**
 * A pool configuration (a {@code memorypool.ini} file or a {@link PoolConfig} built in code) is
 * invalid. Thrown before any segment is created, opened or removed, so a failing configuration
 * changes nothing. The message names the file and line when the problem is in a file.
 */
public final class PoolConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public PoolConfigException(String message) {
        super(message);
    }
}
