/**
 * Robust cross-process locks on futexes: {@link io.shmkit.sync.ShmMutex},
 * {@link io.shmkit.sync.ShmRwLock} and {@link io.shmkit.sync.ShmCondition}.
 *
 * <p>Each lock lives at an offset inside shared memory and works for any mix of threads and
 * processes. A process that dies holding a lock never wedges the others: a waiter notices
 * within about 5 ms (pid gone, zombie, or pid reused with another start time), takes the lock
 * over, and its acquiring call returns {@link io.shmkit.sync.LockResult#OWNER_DIED}; the new
 * owner repairs the protected data and calls {@code markConsistent()}. Garbage lock words are
 * taken over the same way. See {@code docs/LOCKS.md}.
 */
package io.shmkit.sync;
