// A minimal single-threaded epoll server for searchd's protocol: the practical limit
// that `make bench` holds searchd against. It does only what the benchmark needs
// (search hit and miss, binary), the way a hand-tuned C server would: one read and one
// write per wakeup, replies for hits prebuilt, pipelined replies gathered into one
// write. It trusts its peers (no limits, no timeouts): a yardstick, not a daemon.
//
// With `tls`, it serves the same over TLS with searchd's OpenSSL settings (tls-context.h),
// the least a server on this library and kernel can do: SSL_read and SSL_write on the
// socket, one read a wakeup (more only for records OpenSSL already holds).
//
//   server PORT [close] [tls CERT KEY]   close: close after the first reply, as the tutorial does.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tls-context.h"
#include "protocol.h"

#define BUF PROTOCOL_MAX_FRAME
#define OUT (256 * 1024)

typedef struct {
  int fd;
  SSL *ssl;
  int shaking_for_write;  // the handshake asked for EPOLLOUT instead of EPOLLIN
  size_t in_len;
  size_t out_len;
  size_t out_off;
  unsigned char in[BUF];
  unsigned char out[OUT];
} conn;

static int close_after_reply;
static SSL_CTX *tls;

static void drop(int ep, conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  SSL_free(c->ssl);
  close(c->fd);
  free(c);
}

// OpenSSL's "call again when the socket is ready" as EAGAIN, its end of the session as 0.
static ssize_t tls_result(SSL *ssl, int n) {
  if (n > 0) return n;
  int e = SSL_get_error(ssl, n);
  errno = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? EAGAIN : ECONNRESET;
  return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static ssize_t conn_read(conn *c, unsigned char *buf, size_t len) {
  return c->ssl ? tls_result(c->ssl, SSL_read(c->ssl, buf, (int)len)) : read(c->fd, buf, len);
}

static int flush(conn *c) {
  while (c->out_off < c->out_len) {
    size_t len = c->out_len - c->out_off;
    ssize_t n = c->ssl ? tls_result(c->ssl, SSL_write(c->ssl, c->out + c->out_off, (int)len))
                       : send(c->fd, c->out + c->out_off, len, MSG_NOSIGNAL);
    if (n <= 0) return n < 0 && errno == EAGAIN ? 0 : -1;
    c->out_off += n;
  }
  c->out_off = c->out_len = 0;
  return 1;
}

static void serve(int ep, conn *c) {
  if (c->ssl && !SSL_is_init_finished(c->ssl)) {
    ssize_t h = tls_result(c->ssl, SSL_do_handshake(c->ssl));
    if (h < 0 && errno == EAGAIN) {
      int out = SSL_want_write(c->ssl);
      if (out != c->shaking_for_write) {
        struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->shaking_for_write = out;
      }
      return;
    }
    if (h <= 0) {
      drop(ep, c);
      return;
    }
    if (c->shaking_for_write) {
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      c->shaking_for_write = 0;
    }
  }
  ssize_t n;
  do {
    n = conn_read(c, c->in + c->in_len, BUF - c->in_len);
    if (n > 0) c->in_len += n;
  } while (n > 0 && c->ssl && SSL_has_pending(c->ssl) && c->in_len < BUF);
  if (n <= 0 && (n == 0 || errno != EAGAIN)) {
    drop(ep, c);
    return;
  }
  int replies = 0;
  long off = protocol_serve(c->in, c->in_len, c->out, &c->out_len, OUT, &replies);
  if (off < 0) {
    drop(ep, c);
    return;
  }
  memmove(c->in, c->in + off, c->in_len - off);
  c->in_len -= off;
  int r = flush(c);
  if (r < 0 || (close_after_reply && replies > 0)) {
    if (c->ssl && r > 0) SSL_shutdown(c->ssl);
    drop(ep, c);
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN | (r == 0 ? EPOLLOUT : 0), .data.ptr = c};
  if (r == 0) epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: server PORT [close] [tls CERT KEY]\n");
    return 64;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "close") == 0) close_after_reply = 1;
    if (strcmp(argv[i], "tls") == 0 && i + 2 < argc) tls = searchd_like_context(argv[i + 1], argv[i + 2]);
  }
  signal(SIGPIPE, SIG_IGN);
  protocol_init();
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
    perror("bind/listen");
    return 1;
  }
  socklen_t alen = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &alen);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; i++) {
      conn *c = events[i].data.ptr;
      if (!c) {
        for (int k = 0; k < 16; k++) {
          int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *nc = malloc(sizeof *nc);
          nc->fd = fd;
          nc->ssl = NULL;
          nc->shaking_for_write = 0;
          if (tls) {
            nc->ssl = SSL_new(tls);
            SSL_set_fd(nc->ssl, fd);
            SSL_set_accept_state(nc->ssl);
          }
          nc->in_len = nc->out_len = nc->out_off = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
      } else if ((events[i].events & EPOLLOUT) && !(c->ssl && !SSL_is_init_finished(c->ssl))) {
        int r = flush(c);
        if (r < 0) {
          drop(ep, c);
        } else if (r > 0) {
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        }
      } else {
        serve(ep, c);
      }
    }
  }
}
