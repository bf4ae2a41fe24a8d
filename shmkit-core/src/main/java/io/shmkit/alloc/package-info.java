/** Allocators that live inside shared memory segments and hand out offsets. */
package io.shmkit.alloc;
