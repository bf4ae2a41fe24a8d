package io.shmkit.pool;

/** How {@link Pools#start} came up: the seed's {@code EnmStartMode_Init} and {@code EnmStartMode_Resume}. */
public enum StartMode {
    /** Segments created and initialised: no earlier data ("冷启动"). */
    COLD_START,
    /** Segments attached, validated and resumed with all objects in place ("热启动"). */
    RESUME
}
