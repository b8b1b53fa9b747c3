// The one piece of CShims that is not a forwarder: a SIGBUS handler, which must be C
// (Swift code is not async-signal-safe). A file mapped by searchd that someone truncates
// in place loses pages the mapping still points at; touching one is a SIGBUS. Inside a
// guarded mapping the handler maps a zero page over the lost one and returns, so the
// read is retried and sees zeros (to the index: an empty bucket, a miss) instead of
// ending the process. Any other SIGBUS goes to the handler that was there before.
#include "CShims.h"

#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#define SLOTS 16

static _Atomic(uintptr_t) starts[SLOTS];
static _Atomic(size_t) lengths[SLOTS];
static _Atomic(unsigned long) zeroed;
static struct sigaction previous;
static atomic_flag installed = ATOMIC_FLAG_INIT;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  uintptr_t at = (uintptr_t)info->si_addr;
  for (int i = 0; i < SLOTS; i++) {
    uintptr_t start = atomic_load(&starts[i]);
    size_t length = atomic_load(&lengths[i]);
    if (start != 0 && at >= start && at < start + length) {
      uintptr_t page = at & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
      void *r = mmap((void *)page, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
      if (r != MAP_FAILED) {
        atomic_fetch_add(&zeroed, 1);
        return;
      }
    }
  }
  // Not ours: the previous disposition takes the retried fault.
  sigaction(SIGBUS, &previous, NULL);
  (void)sig;
  (void)context;
}

int CShims_guard_mapping(const void *start, size_t length) {
  if (!atomic_flag_test_and_set(&installed)) {
    struct sigaction action = {0};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previous) != 0) return -1;
  }
  for (int i = 0; i < SLOTS; i++) {
    uintptr_t empty = 0;
    if (atomic_compare_exchange_strong(&starts[i], &empty, (uintptr_t)start)) {
      atomic_store(&lengths[i], length);
      return 0;
    }
  }
  return -1;
}

void CShims_unguard_mapping(const void *start) {
  for (int i = 0; i < SLOTS; i++) {
    uintptr_t expected = (uintptr_t)start;
    if (atomic_compare_exchange_strong(&starts[i], &expected, 0)) return;
  }
}

unsigned long CShims_guarded_pages_zeroed(void) { return atomic_load(&zeroed); }
