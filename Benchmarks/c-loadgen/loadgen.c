// A minimal C load generator for searchd's protocol, to show `searchctl bench` is not
// the bottleneck: the same keep-alive flow (C connections, P requests in flight each,
// one write per batch), replies only framed and counted, no latency bookkeeping.
//
//   loadgen PORT CONNECTIONS PIPELINE SECONDS      prints "requests/s N"
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char request[] =
    "\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", "
    "\"content-length\": 41}{\"action\": \"search\", \"value\": \"morpheus\"}";

typedef struct {
  int fd;
  int outstanding;
  size_t len;
  unsigned char buf[65536];
} conn;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: loadgen PORT CONNECTIONS PIPELINE SECONDS\n");
    return 64;
  }
  int port = atoi(argv[1]), nconn = atoi(argv[2]), pipeline = atoi(argv[3]);
  double seconds = atof(argv[4]);
  size_t reqlen = sizeof request - 1;
  unsigned char *batch = malloc(reqlen * pipeline);
  for (int i = 0; i < pipeline; i++) memcpy(batch + i * reqlen, request, reqlen);
  int ep = epoll_create1(0);
  conn *conns = calloc(nconn, sizeof *conns);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < nconn; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
      perror("connect");
      return 2;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    if (write(fd, batch, reqlen * pipeline) != (ssize_t)(reqlen * pipeline)) return 2;
    conns[i].outstanding = pipeline;
  }
  long replies = 0;
  double start = now(), end = start + seconds;
  struct epoll_event events[1024];
  while (now() < end) {
    int n = epoll_wait(ep, events, 1024, 100);
    for (int i = 0; i < n; i++) {
      conn *c = events[i].data.ptr;
      ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
      if (r <= 0) {
        fprintf(stderr, "connection closed\n");
        return 3;
      }
      c->len += r;
      size_t off = 0;
      for (;;) {
        if (c->len - off < 2) break;
        size_t hlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
        if (c->len - off < 2 + hlen) break;
        const unsigned char *p = memmem(c->buf + off + 2, hlen, "\"content-length\": ", 18);
        if (!p) return 3;
        size_t clen = strtoul((const char *)p + 18, NULL, 10);
        if (c->len - off < 2 + hlen + clen) break;
        off += 2 + hlen + clen;
        c->outstanding--;
        replies++;
      }
      memmove(c->buf, c->buf + off, c->len - off);
      c->len -= off;
      if (c->outstanding == 0) {
        if (write(c->fd, batch, reqlen * pipeline) != (ssize_t)(reqlen * pipeline)) return 2;
        c->outstanding = pipeline;
      }
    }
  }
  printf("requests/s %.0f\n", replies / (now() - start));
  return 0;
}
