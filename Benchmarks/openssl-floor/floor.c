// What Debian's OpenSSL costs a server by itself, with nothing else in the way: no kernel,
// no event loop, no searchd. A server and a client session in one process, joined by a BIO
// pair (or, for memory, a socketpair); only the server's work is timed, on the thread's
// CPU clock. Records are timed a whole run at a time: the client's records are made first
// and the server reads them from memory and writes into a null BIO, because the CPU clock
// is a system call here (0.7 µs) and timing each call would count it several times a
// request. The context is searchd's (tls-context.h). bench.py tls runs it beside the
// daemon's figures: what searchd pays above these is its own, the rest is the library's.
//
//   floor CERT KEY REQUEST_BYTES REPLY_BYTES   prints one JSON object
#define _GNU_SOURCE
#include <malloc.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tls-context.h"

static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// The server's CPU in `server_seconds`; the client's work is not counted.
static double server_seconds;

static void shake(SSL *client, SSL *server) {
  for (int i = 0; i < 50; i++) {
    int c = SSL_do_handshake(client);
    double t = cpu();
    int s = SSL_do_handshake(server);
    server_seconds += cpu() - t;
    if (c == 1 && s == 1) return;
  }
  fprintf(stderr, "floor: the handshake did not finish\n");
  exit(1);
}

static void pair(SSL_CTX *sctx, SSL_CTX *cctx, SSL **client, SSL **server) {
  BIO *a, *b;
  BIO_new_bio_pair(&a, 1 << 18, &b, 1 << 18);
  *client = SSL_new(cctx);
  double t = cpu();
  *server = SSL_new(sctx);
  server_seconds += cpu() - t;
  SSL_set_bio(*client, a, a);
  SSL_set_bio(*server, b, b);
  SSL_set_connect_state(*client);
  SSL_set_accept_state(*server);
}

// One request and its reply; the server's read and write are timed apart.
static void exchange(SSL *client, SSL *server, char *buf, int request, int reply, double *rd, double *wr) {
  SSL_write(client, buf, request);
  double t = cpu();
  for (int got = 0; got < request;) got += SSL_read(server, buf, request - got);
  double t2 = cpu();
  SSL_write(server, buf, reply);
  double t3 = cpu();
  for (int got = 0; got < reply;) got += SSL_read(client, buf, reply - got);
  *rd += t2 - t;
  *wr += t3 - t2;
}

// Server CPU per exchange of `k` requests in one record and `k` replies in one, over `n`
// exchanges on one session: the client's records are made beforehand, so only the server's
// SSL_read and SSL_write run in the timed loop.
// The suite the record runs negotiated, for the report.
static const char *cipher = "";

static double records(SSL_CTX *sctx, SSL_CTX *cctx, char *buf, int request, int reply, int k, int n) {
  SSL *c, *s;
  pair(sctx, cctx, &c, &s);
  shake(c, s);
  double unused = 0;
  exchange(c, s, buf, request, reply, &unused, &unused);  // the ticket is read and gone
  BIO *made = BIO_new(BIO_s_mem());
  SSL_set0_wbio(c, made);
  for (int i = 0; i < n; i++) SSL_write(c, buf, k * request);
  char *data;
  long length = BIO_get_mem_data(made, &data);
  SSL_set_bio(s, BIO_new_mem_buf(data, (int)length), BIO_new(BIO_s_null()));
  double t = cpu();
  for (int i = 0; i < n; i++) {
    for (int got = 0; got < k * request;) {
      int r = SSL_read(s, buf, k * request - got);
      if (r <= 0) {
        fprintf(stderr, "floor: a made record did not read\n");
        exit(1);
      }
      got += r;
    }
    SSL_write(s, buf, k * reply);
  }
  double spent = cpu() - t;
  cipher = SSL_get_cipher(s);  // a static name in the library, outliving the session
  SSL_free(s);
  SSL_free(c);
  return spent / n * 1e6;
}

// Server CPU per connection: new session, handshake, one exchange, close_notify, free.
static double handshakes(SSL_CTX *sctx, SSL_CTX *cctx, int resume, int n, char *buf, int *resumed) {
  SSL_SESSION *ticket = NULL;
  double rd = 0, wr = 0;
  for (int i = -1; i < n; i++) {
    if (i == 0) server_seconds = 0, rd = wr = 0, *resumed = 0;
    SSL *c, *s;
    pair(sctx, cctx, &c, &s);
    if (resume && ticket) SSL_set_session(c, ticket);
    shake(c, s);
    exchange(c, s, buf, 80, 100, &rd, &wr);
    if (SSL_session_reused(s)) (*resumed)++;
    if (resume) {
      if (ticket) SSL_SESSION_free(ticket);
      ticket = SSL_get1_session(c);
    }
    SSL_shutdown(c);
    double t = cpu();
    SSL_shutdown(s);
    SSL_free(s);
    server_seconds += cpu() - t;
    SSL_free(c);
  }
  if (ticket) SSL_SESSION_free(ticket);
  return (server_seconds + rd + wr) / n * 1e6;
}

// Bytes of heap an idle server session holds after one exchange, its record buffers given
// back as searchd's sweep gives them back (SSL_free_buffers): sockets, not a BIO pair, whose
// own buffers would count.
static double idle_bytes(SSL_CTX *sctx, SSL_CTX *cctx, char *buf, int n) {
  SSL **servers = calloc(n, sizeof *servers);
  int *fds = calloc(n, sizeof *fds);
  size_t before = mallinfo2().uordblks;
  for (int i = 0; i < n; i++) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    SSL_set_fd(c, sv[0]);
    SSL_set_fd(s, sv[1]);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    shake(c, s);
    double rd = 0, wr = 0;
    exchange(c, s, buf, 80, 100, &rd, &wr);
    SSL_free_buffers(s);
    SSL_free(c);
    close(sv[0]);
    servers[i] = s;
    fds[i] = sv[1];
  }
  double per = ((double)mallinfo2().uordblks - (double)before) / n;
  for (int i = 0; i < n; i++) SSL_free(servers[i]), close(fds[i]);
  free(servers);
  free(fds);
  return per;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: floor CERT KEY REQUEST_BYTES REPLY_BYTES\n");
    return 2;
  }
  int request = atoi(argv[3]), reply = atoi(argv[4]);
  char *buf = malloc(1 << 16);
  memset(buf, 'x', 1 << 16);
  SSL_CTX *sctx = searchd_like_context(argv[1], argv[2]);
  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT);

  int resumed_full, resumed;
  double full = handshakes(sctx, cctx, 0, 2000, buf, &resumed_full);
  double again = handshakes(sctx, cctx, 1, 2000, buf, &resumed);

  // Records: one request and reply (P=1), and 16 of each in one record (P=16).
  double one = records(sctx, cctx, buf, request, reply, 1, 200000);
  double sixteen = records(sctx, cctx, buf, request, reply, 16, 50000);
  double idle = idle_bytes(sctx, cctx, buf, 1000);
  // A server session before any byte: what SSL_new allocates.
  SSL *fresh[100];
  size_t before = mallinfo2().uordblks;
  for (int i = 0; i < 100; i++) fresh[i] = SSL_new(sctx);
  double new_bytes = ((double)mallinfo2().uordblks - (double)before) / 100;
  for (int i = 0; i < 100; i++) SSL_free(fresh[i]);

  printf("{\"cipher\": \"%s\", \"full_us\": %.1f, \"resumed_us\": %.1f, \"resumed\": %d, \"pair_us\": %.2f, "
         "\"pair16_us\": %.2f, \"idle_bytes\": %.0f, \"new_bytes\": %.0f}\n",
         cipher, full, again, resumed, one, sixteen, idle, new_bytes);
  return resumed_full == 0 && resumed == 2000 ? 0 : 1;
}
