/**
 * Typed object pools in shared memory with hot restart: a server process keeps its world
 * (players, rooms, items) in pools that survive a crash or a redeploy, and the next start
 * resumes them in milliseconds instead of rebuilding them.
 *
 * <ul>
 *   <li>{@link io.shmkit.pool.PoolConfig} / {@link io.shmkit.pool.PoolConfigFile}: one process
 *       section of a {@code memorypool.ini} (base segment, block size, data blocks).</li>
 *   <li>{@link io.shmkit.pool.TypeDef}: a registered type (id, name, {@code MemoryLayout},
 *       capacity, optionally keyed by a {@code long}).</li>
 *   <li>{@link io.shmkit.pool.Pools}: the manager of one process section; decides cold start
 *       or resume, validates, recovers, migrates; runs transactions.</li>
 *   <li>{@link io.shmkit.pool.Pool}: the objects of one type, addressed by 64-bit handles
 *       ({@link io.shmkit.pool.Handles}) that detect stale use.</li>
 *   <li>{@link io.shmkit.pool.PoolReader}: read-only access from other processes.</li>
 * </ul>
 *
 * <p>See {@code docs/hot-restart.md} for how to structure a server around it, what survives a
 * crash and what a new build may change.
 */
package io.shmkit.pool;
