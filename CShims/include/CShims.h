// The C surface searchd needs from Linux, liburing and libsystemd. Everything here is
// either a header Swift imports as-is, or a one-statement forwarder for what
// Swift's importer cannot reach, except the SIGBUS guard (mapping_guard.c),
// which must be C because it is a signal handler.
#ifndef CSHIMS_H
#define CSHIMS_H

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
// Last: it defines _GNU_SOURCE, which must not change how the headers above read.
#include <liburing.h>

/// accept4 is declared only under _GNU_SOURCE, which Swift's Glibc module does not set.
int CShims_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// mremap, likewise; flags as Linux defines them (MREMAP_MAYMOVE is 1).
void *CShims_mremap(void *old, size_t old_size, size_t new_size, int flags);

/// posix_spawn_file_actions_addclosefrom_np, declared only under _GNU_SOURCE (the tests'
/// process spawner closes every descriptor but the three streams in the child).
int CShims_spawn_add_close_from(posix_spawn_file_actions_t *actions, int from);

/// io_uring_register(IORING_REGISTER_ENABLE_RINGS): Debian's liburing 2.3 declares
/// io_uring_enable_rings but does not export it. -1 and errno on failure.
int CShims_io_uring_enable_rings(int ring_fd);

/// Guards a read-only file mapping: a page lost to a truncation reads as zeros instead
/// of raising SIGBUS. 0 on success; -1 when every slot is taken (the mapping is then
/// simply unguarded). Unguard before unmapping.
int CShims_guard_mapping(const void *start, size_t length);
void CShims_unguard_mapping(const void *start);
/// Pages the guard has replaced with zeros since start.
unsigned long CShims_guarded_pages_zeroed(void);

#endif
