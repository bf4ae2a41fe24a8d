/**
 * shmkit: shared memory for the JVM on the Foreign Function &amp; Memory API.
 *
 * <p>Needs {@code --enable-native-access=io.shmkit} (or {@code ALL-UNNAMED} on the class path).
 */
module io.shmkit {
    exports io.shmkit;
    exports io.shmkit.segment;
    exports io.shmkit.alloc;
    exports io.shmkit.sync;
    exports io.shmkit.pool;
    exports io.shmkit.table;
}
