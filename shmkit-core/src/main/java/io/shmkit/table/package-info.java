/** {@link io.shmkit.table.SharedTable}: a typed hash table in shared memory with exact capacity, lock-free reads and robust row locks. */
package io.shmkit.table;
