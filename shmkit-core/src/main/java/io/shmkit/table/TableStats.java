package io.shmkit.table;

/**
 * A snapshot of a {@link SharedTable}'s figures (read without locks: each counter is exact at
 * some recent moment, the set is not one atomic snapshot).
 *
 * @param rows          keys present
 * @param capacity      keys the table accepts (exactly, whatever the hashes)
 * @param bytesMapped   bytes of the table's range in the segment (fixed at creation)
 * @param bytesResident bytes of that range backed by memory now ({@code mincore}); -1 if unknown
 * @param inserts       rows created since creation
 * @param updates       writes to existing rows since creation
 * @param deletes       rows deleted since creation
 * @param longestProbe  most index buckets a lookup of a present key looks at (upper bound)
 * @param repairs       times a writer found a dead writer's lock and repaired after it
 */
public record TableStats(int rows, int capacity, long bytesMapped, long bytesResident, long inserts, long updates,
                         long deletes, long longestProbe, long repairs) {
}
