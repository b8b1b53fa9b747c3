// LD_PRELOAD allocation counter for `make bench`: counts malloc, calloc, realloc,
// posix_memalign, aligned_alloc and memalign calls of the whole process into a 64-bit
// counter in the file $MALLOC_COUNT_FILE (mmapped, so the benchmark reads it from
// outside while the server runs). Allocations per request = counter delta / requests.
// A second counter after it takes OpenSSL's own allocations (CRYPTO_malloc and kin,
// which then call malloc, so they are in the first as well): searchd's own are the
// difference. Calls inside libcrypto that bind locally are missed here and so counted
// as searchd's: the split can only overstate searchd's share.
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
  if (fd < 0 || ftruncate(fd, 2 * sizeof(unsigned long)) < 0) return;
  void *p = mmap(NULL, 2 * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p != MAP_FAILED) counter = p;
}

static inline void count_openssl(void) {
  if (counter) atomic_fetch_add_explicit(&counter[1], 1, memory_order_relaxed);
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

// OpenSSL's allocator entry points (libcrypto), counted, then passed on. One of them may
// call another (CRYPTO_zalloc calls CRYPTO_malloc): only the outermost call counts.
static __thread int openssl_depth;
#define FORWARD(name, ret, params, args)                     \
  ret name params {                                          \
    static ret(*real) params;                                \
    if (!real) real = (ret(*) params)dlsym(RTLD_NEXT, #name); \
    if (openssl_depth++ == 0) count_openssl();               \
    ret result = real args;                                  \
    openssl_depth--;                                         \
    return result;                                           \
  }
FORWARD(CRYPTO_malloc, void *, (size_t n, const char *f, int l), (n, f, l))
FORWARD(CRYPTO_zalloc, void *, (size_t n, const char *f, int l), (n, f, l))
FORWARD(CRYPTO_realloc, void *, (void *p, size_t n, const char *f, int l), (p, n, f, l))
FORWARD(CRYPTO_clear_realloc, void *, (void *p, size_t o, size_t n, const char *f, int l), (p, o, n, f, l))
