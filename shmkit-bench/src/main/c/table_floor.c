/*
 * The native floor for SharedTableBenchmark's get: what a get on a random key of 1M rows must
 * touch, with no table code around it, in C over shared memory (a file in /dev/shm, or DIR,
 * mapped MAP_SHARED). It is SharedTableBenchmark.Floor written again without the JVM: the
 * same keys ("key-%012d", 16 bytes, each in its own heap allocation), the same multiply hash
 * of their 16 bytes, the same linear probing with a 32-bit tag, the same 96-byte rows and the
 * same 64-byte copy of the values; keys chosen by the same xorshift.
 *
 *   floorBucketThenRow      shmkit's layout: 8-byte bucket words (2M), then rows. Two dependent
 *                           reads of shared memory per get after the key.
 *   floorRowInBucket        the row stored in its bucket (2M buckets of 96 bytes): one read.
 *   floorBucketThenRow_2t   the first with two threads on one table.
 *
 * Usage: table_floor WARMUP_MS ITERATION_MS ITERATIONS [DIR]
 * Prints one line per benchmark:  RESULT <name> <ops/us of iteration 1> <iteration 2> ...
 * (both threads together for _2t). The mapping is unlinked as soon as it is mapped.
 * table_floor hash I X prints key I's hash and the first 4 keys the xorshift picks from X (as
 * signed decimals: for the test that they match the Java floor's).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ROWS 1000000
#define KEY_BYTES 16
#define VALUE_BYTES 64
#define ROW 96          /* 8 seq + 4 key length + 4 + 16 key + 64 values */
#define CHUNK 1024
#define MAX_ITERATIONS 64

static volatile uint64_t sink;

typedef struct {
    unsigned char *m;
    uint64_t mask;
    uint64_t rows_at;   /* offset of row 0; 0 when rows sit in their buckets */
    int in_bucket;
    unsigned char **keys;
} table;

typedef struct {
    const char *name;
    int in_bucket;
    int threads;
} bench;

typedef struct {
    const table *t;
    long warmup_ms, iteration_ms;
    int iterations;
    uint32_t x;
    uint64_t ops[MAX_ITERATIONS];
    pthread_barrier_t *barrier;
} worker;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian on x86_64, as the Java floor's LONG view */
    return v;
}

static uint64_t hash(const unsigned char *k) {
    uint64_t h = (load64(k) * 0x9E3779B97F4A7C15ULL ^ load64(k + 8)) * 0xC2B2AE3D27D4EB4FULL;
    return h ^ h >> 29;
}

/* The Java floor's Cursor.next(): xorshift on an int, then % ROWS. */
static int next_key(uint32_t *x) {
    uint32_t v = *x;
    v ^= v << 13;
    v ^= v >> 17;
    v ^= v << 5;
    *x = v;
    return (int) ((v & 0x7FFFFFFFu) % ROWS);
}

static int occupied(const table *t, uint64_t slot) {
    if (t->in_bucket) {
        int32_t len;
        memcpy(&len, t->m + slot * ROW + 8, 4);
        return len != 0;
    }
    return load64(t->m + slot * 8) != 0;
}

/* Offset of the row holding key k. */
static uint64_t find(const table *t, const unsigned char *k) {
    uint64_t h = hash(k);
    uint64_t slot = h >> 32 & t->mask;
    uint64_t k0 = load64(k), k1 = load64(k + 8);
    for (;;) {
        uint64_t at = UINT64_MAX;
        if (t->in_bucket) {
            at = slot * ROW;
        } else {
            uint64_t w = load64(t->m + slot * 8);
            if (((w ^ h) >> 32) == 0) {
                at = t->rows_at + ((w & 0xFFFFFFFFULL) - 1) * ROW;
            }
        }
        if (at != UINT64_MAX) {
            int32_t len;
            memcpy(&len, t->m + at + 8, 4);
            if (len == KEY_BYTES && load64(t->m + at + 16) == k0 && load64(t->m + at + 24) == k1) {
                return at;
            }
        }
        slot = (slot + 1) & t->mask;
    }
}

static uint64_t get(const table *t, uint32_t *x, unsigned char *buffer) {
    uint64_t at = find(t, t->keys[next_key(x)]);
    memcpy(buffer, t->m + at + 32, VALUE_BYTES);
    return load64(buffer);
}

static uint64_t run_until(worker *w, long until_ns) {
    unsigned char buffer[VALUE_BYTES];
    uint64_t ops = 0, sum = 0;
    while (now_ns() < until_ns) {
        for (int k = 0; k < CHUNK; k++) {
            sum += get(w->t, &w->x, buffer);
        }
        ops += CHUNK;
    }
    sink = sum;
    return ops;
}

static void *work(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(w->barrier);
    run_until(w, now_ns() + w->warmup_ms * 1000000L);
    for (int it = 0; it < w->iterations; it++) {
        pthread_barrier_wait(w->barrier); /* every thread measures the same window */
        w->ops[it] = run_until(w, now_ns() + w->iteration_ms * 1000000L);
    }
    return NULL;
}

static unsigned char *map_shared(const char *dir, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/shmkit-bench-floor-c-%ld", dir, (long) getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    if (ftruncate(fd, (off_t) bytes) != 0) {
        perror("ftruncate");
        unlink(path);
        exit(1);
    }
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unlink(path); /* nothing is left behind, whatever happens next */
    close(fd);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return m;
}

static void build(table *t, int in_bucket, const char *dir, size_t *bytes) {
    uint64_t buckets = 1;
    while (buckets <= (uint64_t) ROWS * 4 / 3) {
        buckets <<= 1; /* Long.highestOneBit(ROWS * 4 / 3) * 2 */
    }
    t->in_bucket = in_bucket;
    t->mask = buckets - 1;
    t->rows_at = in_bucket ? 0 : buckets * 8;
    *bytes = in_bucket ? buckets * ROW : t->rows_at + (uint64_t) ROWS * ROW;
    t->m = map_shared(dir, *bytes);
    for (int i = 0; i < ROWS; i++) {
        const unsigned char *k = t->keys[i];
        uint64_t h = hash(k);
        uint64_t slot = h >> 32 & t->mask;
        while (occupied(t, slot)) {
            slot = (slot + 1) & t->mask;
        }
        uint64_t at;
        if (in_bucket) {
            at = slot * ROW;
        } else {
            uint64_t w = (h & 0xFFFFFFFF00000000ULL) | (uint64_t) (i + 1);
            memcpy(t->m + slot * 8, &w, 8);
            at = t->rows_at + (uint64_t) i * ROW;
        }
        int32_t len = KEY_BYTES;
        uint64_t value = (uint64_t) i;
        memcpy(t->m + at + 8, &len, 4);
        memcpy(t->m + at + 16, k, KEY_BYTES);
        memcpy(t->m + at + 32, &value, 8);
    }
}

static void measure(const bench *b, unsigned char **keys, const char *dir, long warmup_ms, long iteration_ms,
                    int iterations) {
    table t = {.keys = keys};
    size_t bytes;
    build(&t, b->in_bucket, dir, &bytes);
    worker ws[2];
    pthread_t ts[2];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned) b->threads);
    for (int i = 0; i < b->threads; i++) {
        worker *w = &ws[i];
        memset(w, 0, sizeof *w);
        w->t = &t;
        w->warmup_ms = warmup_ms;
        w->iteration_ms = iteration_ms;
        w->iterations = iterations;
        w->barrier = &barrier;
        w->x = (uint32_t) now_ns() | 1u | (uint32_t) i << 8;
        pthread_create(&ts[i], NULL, work, w);
    }
    for (int i = 0; i < b->threads; i++) {
        pthread_join(ts[i], NULL);
    }
    pthread_barrier_destroy(&barrier);
    munmap(t.m, bytes);
    printf("RESULT %s", b->name);
    for (int it = 0; it < iterations; it++) {
        uint64_t sum = 0;
        for (int i = 0; i < b->threads; i++) {
            sum += ws[i].ops[it];
        }
        printf(" %.3f", (double) sum / (iteration_ms * 1000.0));
    }
    printf("\n");
    fflush(stdout);
}

static void make_key(unsigned char *k, int i) {
    char text[32];
    snprintf(text, sizeof text, "key-%012d", i);
    memcpy(k, text, KEY_BYTES);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "hash") == 0) {
        unsigned char k[KEY_BYTES];
        make_key(k, atoi(argv[2]));
        uint32_t x = (uint32_t) atol(argv[3]);
        printf("%lld\n", (long long) hash(k));
        for (int i = 0; i < 4; i++) {
            printf("%d\n", next_key(&x));
        }
        return 0;
    }
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s WARMUP_MS ITERATION_MS ITERATIONS [DIR]\n", argv[0]);
        return 2;
    }
    long warmup_ms = atol(argv[1]);
    long iteration_ms = atol(argv[2]);
    int iterations = atoi(argv[3]);
    const char *dir = argc == 5 ? argv[4] : "/dev/shm";
    if (warmup_ms < 0 || iteration_ms <= 0 || iterations <= 0 || iterations > MAX_ITERATIONS) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    unsigned char **keys = malloc(sizeof *keys * ROWS);
    for (int i = 0; i < ROWS; i++) {
        keys[i] = malloc(KEY_BYTES); /* one heap object per key, as the Java benchmark's byte[] */
        make_key(keys[i], i);
    }
    static const bench benches[] = {
        {"floorBucketThenRow", 0, 1},
        {"floorRowInBucket", 1, 1},
        {"floorBucketThenRow_2t", 0, 2},
    };
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        measure(&benches[i], keys, dir, warmup_ms, iteration_ms, iterations);
    }
    return 0;
}
