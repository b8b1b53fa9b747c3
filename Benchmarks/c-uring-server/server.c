// The C yardstick on io_uring (issue 23): ../c-server's protocol and bytes (protocol.h),
// its I/O as a hand-tuned io_uring server does it: multishot accept, multishot recv from
// one provided-buffer ring (an idle connection holds no read buffer), every reply of a
// turn sent by one io_uring_enter, IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the
// kernel has them. Single-threaded, plain TCP, no limits or timeouts: a yardstick.
//
//   server PORT [close]   close: close after the first reply, as the tutorial does.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../c-server/protocol.h"

#define ENTRIES 4096
#define BUFFERS 4096  // provided buffers, a power of two
#define BUFFER_SIZE 4096
#define GROUP 0
#define OUT (256 * 1024)

enum { ACCEPT = 0, RECV = 1, SEND = 2 };

typedef struct conn {
  int fd;
  int refs;         // the recv and an in-flight send each hold the connection
  int closing;
  int sending;      // bytes of out in the send in flight
  int queued;       // on the turn's send list
  int replied;
  size_t in_len;
  size_t out_len;
  struct conn *next_send;
  unsigned char in[PROTOCOL_MAX_FRAME];  // a partial request carried to the next recv
  unsigned char out[OUT];
} conn;

static struct io_uring ring;
static struct io_uring_buf_ring *buffers;
static unsigned char *buffer_memory;
static int close_after_reply;
static int listener;
static conn *send_list;

static struct io_uring_sqe *sqe(void) {
  struct io_uring_sqe *s = io_uring_get_sqe(&ring);
  if (!s) {
    io_uring_submit(&ring);
    s = io_uring_get_sqe(&ring);
  }
  return s;
}

static void *tag(conn *c, int kind) { return (void *)((uintptr_t)c | (uintptr_t)kind); }

static void arm_accept(void) {
  struct io_uring_sqe *s = sqe();
  io_uring_prep_multishot_accept(s, listener, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data(s, tag(NULL, ACCEPT));
}

static void arm_recv(conn *c) {
  struct io_uring_sqe *s = sqe();
  io_uring_prep_recv_multishot(s, c->fd, NULL, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = GROUP;
  io_uring_sqe_set_data(s, tag(c, RECV));
}

static void give_back(int id) {
  io_uring_buf_ring_add(buffers, buffer_memory + (size_t)id * BUFFER_SIZE, BUFFER_SIZE, id,
                        io_uring_buf_ring_mask(BUFFERS), 0);
  io_uring_buf_ring_advance(buffers, 1);
}

static void release(conn *c) {
  if (--c->refs == 0) {
    close(c->fd);
    free(c);
  }
}

static void finish(conn *c) {
  if (c->closing) return;
  c->closing = 1;
  shutdown(c->fd, SHUT_RDWR);  // ends the multishot recv, whose last completion releases it
}

static void want_send(conn *c) {
  if (c->queued || c->sending || c->out_len == 0) return;
  c->queued = 1;
  c->next_send = send_list;
  send_list = c;
}

// Answers what arrived; a partial request waits in c->in for the next buffer.
static void received(conn *c, const unsigned char *data, size_t len) {
  const unsigned char *in = data;
  size_t in_len = len;
  if (c->in_len > 0) {
    if (c->in_len + len > sizeof c->in) return finish(c);
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    in = c->in;
    in_len = c->in_len;
  }
  int replies = 0;
  long took = protocol_serve(in, in_len, c->out, &c->out_len, OUT, &replies);
  if (took < 0) return finish(c);
  if (in == c->in) {
    memmove(c->in, c->in + took, c->in_len - took);
    c->in_len -= took;
  } else if ((size_t)took < len) {
    memcpy(c->in, data + took, len - took);
    c->in_len = len - took;
  }
  c->replied += replies;
  want_send(c);
}

static void send_turn(void) {
  for (conn *c = send_list; c; c = c->next_send) {
    c->queued = 0;
    if (c->closing) continue;
    struct io_uring_sqe *s = sqe();
    io_uring_prep_send(s, c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    io_uring_sqe_set_data(s, tag(c, SEND));
    c->sending = (int)c->out_len;
    c->refs++;
  }
  send_list = NULL;
}

static void sent(conn *c, int res) {
  int was = c->sending;
  c->sending = 0;
  if (res < 0 || c->closing) {
    finish(c);
  } else {
    // Replies appended while the send was in flight move to the front.
    memmove(c->out, c->out + res, c->out_len - res);
    c->out_len -= res;
    if (res == was && c->out_len == 0 && close_after_reply && c->replied > 0) finish(c);
    want_send(c);
  }
  release(c);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: server PORT [close]\n");
    return 64;
  }
  close_after_reply = argc > 2 && strcmp(argv[2], "close") == 0;
  signal(SIGPIPE, SIG_IGN);
  protocol_init();
  struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
  if (io_uring_queue_init_params(ENTRIES, &ring, &p) < 0) {
    memset(&p, 0, sizeof p);
    int r = io_uring_queue_init_params(ENTRIES, &ring, &p);
    if (r < 0) {
      fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r));
      return 1;
    }
  }
  // Each io_uring_enter then skips the ring descriptor's lookup.
  io_uring_register_ring_fd(&ring);
  size_t ring_bytes = BUFFERS * sizeof(struct io_uring_buf);
  buffers = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  buffer_memory = malloc((size_t)BUFFERS * BUFFER_SIZE);
  struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)buffers, .ring_entries = BUFFERS, .bgid = GROUP};
  int r = io_uring_register_buf_ring(&ring, &reg, 0);
  if (buffers == MAP_FAILED || !buffer_memory || r < 0) {
    fprintf(stderr, "provided buffers: %s\n", strerror(-r));
    return 1;
  }
  io_uring_buf_ring_init(buffers);
  for (int i = 0; i < BUFFERS; i++) give_back(i);

  listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr *)&a, sizeof a) < 0 || listen(listener, 4096) < 0) {
    perror("bind/listen");
    return 1;
  }
  socklen_t alen = sizeof a;
  getsockname(listener, (struct sockaddr *)&a, &alen);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  arm_accept();

  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
      conn *c = (conn *)(data & ~(uintptr_t)3);
      int more = cqe->flags & IORING_CQE_F_MORE;
      switch (data & 3) {
        case ACCEPT:
          if (cqe->res >= 0) {
            setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conn *nc = malloc(sizeof *nc);
            memset(nc, 0, offsetof(conn, in));
            nc->fd = cqe->res;
            nc->refs = 1;
            arm_recv(nc);
          }
          if (!more) arm_accept();
          break;
        case RECV:
          if (cqe->res > 0) {
            int id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            if (!c->closing) received(c, buffer_memory + (size_t)id * BUFFER_SIZE, cqe->res);
            give_back(id);
          } else if (cqe->res == 0 || cqe->res != -ENOBUFS) {
            finish(c);
          }
          // Ended: re-armed after a dry ring (ENOBUFS) while open, else the recv's hold ends.
          if (!more) {
            if (c->closing) {
              release(c);
            } else {
              arm_recv(c);
            }
          }
          break;
        case SEND:
          sent(c, cqe->res);
          break;
      }
    }
    io_uring_cq_advance(&ring, seen);
    send_turn();
  }
}
