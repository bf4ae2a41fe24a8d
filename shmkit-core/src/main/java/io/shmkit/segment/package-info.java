/** Named shared memory segments: POSIX, file, System V and anonymous backends, with a validated header. */
package io.shmkit.segment;
