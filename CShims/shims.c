#include "CShims.h"

int CShims_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  return accept4(fd, addr, len, flags);
}

void *CShims_mremap(void *old, size_t old_size, size_t new_size, int flags) {
  return mremap(old, old_size, new_size, flags);
}
