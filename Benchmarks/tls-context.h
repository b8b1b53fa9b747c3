// The server context searchd sets up (Sources/SearchdTLS/TLSContext.swift), for the C
// yardsticks that measure OpenSSL beside it (openssl-floor, and c-server's TLS mode): C
// cannot import the Swift settings, so they are written out once here for both.
#ifndef SEARCHD_BENCH_TLS_CONTEXT_H
#define SEARCHD_BENCH_TLS_CONTEXT_H
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

static SSL_CTX *searchd_like_context(const char *cert, const char *key) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    fprintf(stderr, "cannot read %s or %s\n", cert, key);
    exit(2);
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"searchd", 7);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  return ctx;
}
#endif
