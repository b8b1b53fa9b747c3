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

#define BUF 65536
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

static const char *keys[] = {"morpheus", "ring", "\xf0\x9f\x90\xb6"};
static const char *values[] = {"Follow the white rabbit. \xf0\x9f\x90\xb0",
                               "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d",
                               "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90"};
static unsigned char hit_reply[3][256];
static size_t hit_len[3];

static size_t frame(unsigned char *dst, const char *type, const char *enc, const unsigned char *content,
                    size_t clen) {
  char header[256];
  int hlen = snprintf(header, sizeof header,
                      "{\"byteorder\": \"little\", \"content-type\": \"%s\", \"content-encoding\": \"%s\", "
                      "\"content-length\": %zu}",
                      type, enc, clen);
  dst[0] = (unsigned char)(hlen >> 8);
  dst[1] = (unsigned char)hlen;
  memcpy(dst + 2, header, hlen);
  memcpy(dst + 2 + hlen, content, clen);
  return 2 + hlen + clen;
}

// The string value after `"key": "` in json (no escapes needed for the benchmark's keys).
static int find_string(const unsigned char *json, size_t len, const char *key, const unsigned char **v,
                       size_t *vlen) {
  const unsigned char *p = memmem(json, len, key, strlen(key));
  if (!p) return 0;
  p += strlen(key);
  const unsigned char *end = json + len;
  while (p < end && (*p == ' ' || *p == ':')) p++;
  if (p >= end || *p != '"') return 0;
  p++;
  const unsigned char *q = memchr(p, '"', end - p);
  if (!q) return 0;
  *v = p;
  *vlen = q - p;
  return 1;
}

// Appends the reply to one request to c->out; returns 0 on a malformed request.
static int answer(conn *c, const unsigned char *header, size_t hlen, const unsigned char *content, size_t clen) {
  if (c->out_len + 4096 + clen > OUT) return 0;
  unsigned char *dst = c->out + c->out_len;
  if (!memmem(header, hlen, "\"text/json\"", 11)) {
    unsigned char body[64] = "First 10 bytes of request: ";
    size_t n = clen < 10 ? clen : 10;
    memcpy(body + 27, content, n);
    c->out_len += frame(dst, "binary/custom-server-binary-type", "binary", body, 27 + n);
    return 1;
  }
  const unsigned char *q;
  size_t qlen;
  if (!find_string(content, clen, "\"value\"", &q, &qlen)) return 0;
  for (int i = 0; i < 3; i++) {
    if (qlen == strlen(keys[i]) && memcmp(q, keys[i], qlen) == 0) {
      memcpy(dst, hit_reply[i], hit_len[i]);
      c->out_len += hit_len[i];
      return 1;
    }
  }
  unsigned char body[4096];
  if (qlen > 4000) return 0;
  int n = snprintf((char *)body, sizeof body, "{\"result\": \"No match for \\\"%.*s\\\".\"}", (int)qlen, q);
  c->out_len += frame(dst, "text/json", "utf-8", body, n);
  return 1;
}

static size_t header_content_length(const unsigned char *h, size_t len, int *ok) {
  const unsigned char *p = memmem(h, len, "\"content-length\"", 16);
  *ok = 0;
  if (!p) return 0;
  p += 16;
  const unsigned char *end = h + len;
  while (p < end && (*p == ' ' || *p == ':')) p++;
  size_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    v = v * 10 + (*p++ - '0');
    *ok = 1;
  }
  return v;
}

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
  size_t off = 0;
  int replies = 0;
  while (c->in_len - off >= 2) {
    size_t hlen = (size_t)c->in[off] << 8 | c->in[off + 1];
    if (c->in_len - off < 2 + hlen) break;
    int ok;
    size_t clen = header_content_length(c->in + off + 2, hlen, &ok);
    if (!ok || 2 + hlen + clen > BUF) {
      drop(ep, c);
      return;
    }
    if (c->in_len - off < 2 + hlen + clen) break;
    if (!answer(c, c->in + off + 2, hlen, c->in + off + 2 + hlen, clen)) {
      drop(ep, c);
      return;
    }
    off += 2 + hlen + clen;
    replies++;
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
  for (int i = 0; i < 3; i++) {
    unsigned char body[200];
    int n = snprintf((char *)body, sizeof body, "{\"result\": \"%s\"}", values[i]);
    hit_len[i] = frame(hit_reply[i], "text/json", "utf-8", body, n);
  }
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
