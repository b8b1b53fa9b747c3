#include "CShims.h"

#include <sys/syscall.h>
#include <unistd.h>

int CShims_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  return accept4(fd, addr, len, flags);
}

int CShims_spawn_add_close_from(posix_spawn_file_actions_t *actions, int from) {
  return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int CShims_io_uring_enable_rings(int ring_fd) {
  return (int)syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

void *CShims_mremap(void *old, size_t old_size, size_t new_size, int flags) {
  return mremap(old, old_size, new_size, flags);
}
