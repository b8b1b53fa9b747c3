// LD_PRELOAD allocation counter for `make bench`: counts malloc, calloc, realloc,
// posix_memalign, aligned_alloc and memalign calls of the whole process into a 64-bit
// counter in the file $MALLOC_COUNT_FILE (mmapped, so the benchmark reads it from
// outside while the server runs). Allocations per request = counter delta / requests.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic unsigned long *counter;
static _Atomic unsigned long early;

__attribute__((constructor)) static void setup(void) {
  const char *path = getenv("MALLOC_COUNT_FILE");
  if (!path) return;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, sizeof(unsigned long)) < 0) return;
  void *p = mmap(NULL, sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p != MAP_FAILED) counter = p;
}

static inline void count(void) {
  if (counter) atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
  else atomic_fetch_add_explicit(&early, 1, memory_order_relaxed);
}

// glibc's own entry points, reached without dlsym (which itself allocates).
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
  count();
  void *p = __libc_memalign(a, n);
  if (!p) return 12;
  *out = p;
  return 0;
}
