// searchd's protocol as the C yardsticks answer it (server.c on epoll, ../c-uring-server on
// io_uring): the same bytes from one place, so the two servers differ only in their I/O.
// It trusts its peers: a yardstick, not a daemon.
#ifndef SEARCHD_BENCH_PROTOCOL_H
#define SEARCHD_BENCH_PROTOCOL_H
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#define PROTOCOL_MAX_FRAME 65536

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

// Hit replies made once.
static void protocol_init(void) {
  for (int i = 0; i < 3; i++) {
    unsigned char body[200];
    int n = snprintf((char *)body, sizeof body, "{\"result\": \"%s\"}", values[i]);
    hit_len[i] = frame(hit_reply[i], "text/json", "utf-8", body, n);
  }
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

// Appends the reply to one request at out + *out_len; returns 0 on a malformed request or
// when out (of cap bytes) has no room.
static int answer(unsigned char *out, size_t *out_len, size_t cap, const unsigned char *header, size_t hlen,
                  const unsigned char *content, size_t clen) {
  if (*out_len + 4096 + clen > cap) return 0;
  unsigned char *dst = out + *out_len;
  if (!memmem(header, hlen, "\"text/json\"", 11)) {
    unsigned char body[64] = "First 10 bytes of request: ";
    size_t n = clen < 10 ? clen : 10;
    memcpy(body + 27, content, n);
    *out_len += frame(dst, "binary/custom-server-binary-type", "binary", body, 27 + n);
    return 1;
  }
  const unsigned char *q;
  size_t qlen;
  if (!find_string(content, clen, "\"value\"", &q, &qlen)) return 0;
  for (int i = 0; i < 3; i++) {
    if (qlen == strlen(keys[i]) && memcmp(q, keys[i], qlen) == 0) {
      memcpy(dst, hit_reply[i], hit_len[i]);
      *out_len += hit_len[i];
      return 1;
    }
  }
  unsigned char body[4096];
  if (qlen > 4000) return 0;
  int n = snprintf((char *)body, sizeof body, "{\"result\": \"No match for \\\"%.*s\\\".\"}", (int)qlen, q);
  *out_len += frame(dst, "text/json", "utf-8", body, n);
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

// Answers every whole request in in[0..<len] into out; returns the bytes taken (a partial
// request is left), or -1 for a malformed one. *replies counts the answers.
static long protocol_serve(const unsigned char *in, size_t len, unsigned char *out, size_t *out_len, size_t cap,
                           int *replies) {
  size_t off = 0;
  while (len - off >= 2) {
    size_t hlen = (size_t)in[off] << 8 | in[off + 1];
    if (len - off < 2 + hlen) break;
    int ok;
    size_t clen = header_content_length(in + off + 2, hlen, &ok);
    if (!ok || 2 + hlen + clen > PROTOCOL_MAX_FRAME) return -1;
    if (len - off < 2 + hlen + clen) break;
    if (!answer(out, out_len, cap, in + off + 2, hlen, in + off + 2 + hlen, clen)) return -1;
    off += 2 + hlen + clen;
    (*replies)++;
  }
  return (long)off;
}

#endif
