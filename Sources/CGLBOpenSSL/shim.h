// OpenSSL 3 through its C API. Macros Swift cannot import get static inline wrappers here
// (TOOLCHAIN.md pitfall 7).
#ifndef CGLB_OPENSSL_SHIM_H
#define CGLB_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static inline long cglb_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline int cglb_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long cglb_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

// Client side, non-blocking (HealthProber's HTTPS probes).

/// SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: SSL_write on a
/// non-blocking socket may take part of a buffer, and a retry may pass the rest from a new address.
static inline long cglb_ssl_mode_nonblocking(void) {
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
}

/// SSL_OP_IGNORE_UNEXPECTED_EOF: a peer that closes without close_notify reads as EOF
/// (SSL_ERROR_ZERO_RETURN) instead of an SSL_ERROR_SSL, as it did before OpenSSL 3.
static inline uint64_t cglb_ssl_op_ignore_unexpected_eof(void) {
    return SSL_OP_IGNORE_UNEXPECTED_EOF;
}

static inline uint64_t cglb_ssl_ctx_set_options(SSL_CTX *ctx, uint64_t options) {
    return (uint64_t)SSL_CTX_set_options(ctx, options);
}
#endif
