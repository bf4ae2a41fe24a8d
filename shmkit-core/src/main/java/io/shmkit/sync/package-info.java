/** Robust cross-process locks on futexes: mutex, read-write lock, condition. */
package io.shmkit.sync;
