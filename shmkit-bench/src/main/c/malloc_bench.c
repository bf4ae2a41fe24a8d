/*
 * The native floor for the allocator benchmarks: glibc malloc + free called from C, the way
 * AllocatorBenchmark calls them through FFM (one allocate and one free per operation, the
 * pointer kept alive through a volatile store so the compiler cannot drop the pair).
 *
 * Usage: malloc_bench WARMUP_MS ITERATION_MS ITERATIONS
 * Prints one line per benchmark:  RESULT <name> <ops/us of iteration 1> <iteration 2> ...
 * malloc_bench sizes LO HI prints the size sequence (for the test that it matches Java's).
 *
 * Size sequences match AllocatorBenchmark.Sizes: 4096 sizes lo + splitmix64(seed 42) % span.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSIZES 4096
#define CHUNK 1024
#define MAX_ITERATIONS 64

static void *volatile sink;

typedef struct {
    const char *name;
    long lo, hi;        /* request sizes, inclusive */
    int threads;
} bench;

typedef struct {
    const bench *b;
    long warmup_ms, iteration_ms;
    int iterations;
    uint64_t ops[MAX_ITERATIONS];
    long sizes[NSIZES];
    pthread_barrier_t *barrier;
} worker;

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Runs allocate + free pairs until `until_ns`, returns how many. */
static uint64_t run_until(const long *sizes, long until_ns, unsigned *index) {
    uint64_t ops = 0;
    unsigned i = *index;
    while (now_ns() < until_ns) {
        for (int k = 0; k < CHUNK; k++) {
            void *p = malloc((size_t) sizes[i++ & (NSIZES - 1)]);
            sink = p;
            free(p);
        }
        ops += CHUNK;
    }
    *index = i;
    return ops;
}

static void *work(void *arg) {
    worker *w = arg;
    unsigned index = 0;
    pthread_barrier_wait(w->barrier);
    run_until(w->sizes, now_ns() + w->warmup_ms * 1000000L, &index);
    for (int it = 0; it < w->iterations; it++) {
        pthread_barrier_wait(w->barrier); /* every thread measures the same window */
        w->ops[it] = run_until(w->sizes, now_ns() + w->iteration_ms * 1000000L, &index);
    }
    return NULL;
}

static void fill_sizes(long *sizes, long lo, long hi) {
    uint64_t state = 42;
    for (int k = 0; k < NSIZES; k++) {
        sizes[k] = lo + (long) (splitmix64(&state) % (uint64_t) (hi - lo + 1));
    }
}

static void measure(const bench *b, long warmup_ms, long iteration_ms, int iterations) {
    worker ws[2];
    pthread_t ts[2];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned) b->threads);
    for (int t = 0; t < b->threads; t++) {
        worker *w = &ws[t];
        memset(w, 0, sizeof *w);
        w->b = b;
        w->warmup_ms = warmup_ms;
        w->iteration_ms = iteration_ms;
        w->iterations = iterations;
        w->barrier = &barrier;
        fill_sizes(w->sizes, b->lo, b->hi);
        pthread_create(&ts[t], NULL, work, w);
    }
    for (int t = 0; t < b->threads; t++) {
        pthread_join(ts[t], NULL);
    }
    pthread_barrier_destroy(&barrier);
    printf("RESULT %s", b->name);
    for (int it = 0; it < iterations; it++) {
        uint64_t sum = 0;
        for (int t = 0; t < b->threads; t++) {
            sum += ws[t].ops[it];
        }
        printf(" %.3f", (double) sum / (iteration_ms * 1000.0));
    }
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "sizes") == 0) {
        static long sizes[NSIZES];
        fill_sizes(sizes, atol(argv[2]), atol(argv[3]));
        for (int k = 0; k < NSIZES; k++) {
            printf("%ld\n", sizes[k]);
        }
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s WARMUP_MS ITERATION_MS ITERATIONS\n", argv[0]);
        return 2;
    }
    long warmup_ms = atol(argv[1]);
    long iteration_ms = atol(argv[2]);
    int iterations = atoi(argv[3]);
    if (warmup_ms < 0 || iteration_ms <= 0 || iterations <= 0 || iterations > MAX_ITERATIONS) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    static const bench benches[] = {
        {"malloc64", 64, 64, 1},
        {"malloc64_2t", 64, 64, 2},
        {"mallocMixed[sizes=8-1032]", 8, 1032, 1},
        {"mallocMixed[sizes=8-2048]", 8, 2048, 1},
        {"mallocMixed_2t[sizes=8-1032]", 8, 1032, 2},
        {"mallocMixed_2t[sizes=8-2048]", 8, 2048, 2},
    };
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        measure(&benches[i], warmup_ms, iteration_ms, iterations);
    }
    return 0;
}
