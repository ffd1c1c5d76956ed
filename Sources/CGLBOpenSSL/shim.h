// OpenSSL 3 through its C API. Macros Swift cannot import get static inline wrappers here
// (TOOLCHAIN.md pitfall 7).
#ifndef CGLB_OPENSSL_SHIM_H
#define CGLB_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>
#include <string.h>

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
// Server side (Proxy's TLS termination) and shared helpers.

static inline uint64_t cglb_ssl_op_no_renegotiation(void) {
    return SSL_OP_NO_RENEGOTIATION;
}

static inline long cglb_ssl_ctx_set_dh_auto(SSL_CTX *ctx) {
    return SSL_CTX_set_dh_auto(ctx, 1);
}

static inline int cglb_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

/// Tickets carry resumption (RFC 5077, RFC 8446 §4.6.1); a shared stateful cache would need a
/// lock between loops, so it is off.
static inline long cglb_ssl_ctx_session_cache_off(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

static inline long cglb_ssl_ctx_set_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *), void *arg) {
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}

/// Read-ahead: one read(2) takes whatever has arrived (up to a buffer) instead of a record's
/// 5-byte header and then its body in two calls.
static inline long cglb_ssl_ctx_set_read_ahead(SSL_CTX *ctx) {
    return SSL_CTX_set_read_ahead(ctx, 1);
}

static inline int cglb_err_reason(unsigned long code) {
    return ERR_GET_REASON(code);
}

/// ALPN (RFC 7301): GLB speaks http/1.1 only. A client that offers protocols but not http/1.1 gets
/// the no_application_protocol alert (§3.2); one that offers none negotiates nothing.
static inline int cglb_alpn_select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                          const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char http11[] = "\x08http/1.1";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, http11, sizeof(http11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void cglb_ssl_ctx_alpn_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, cglb_alpn_select_http11, NULL);
}

/// The client offers http/1.1 only (upstream connections).
static inline int cglb_ssl_set_alpn_http11(SSL *ssl) {
    static const unsigned char http11[] = "\x08http/1.1";
    return SSL_set_alpn_protos(ssl, http11, sizeof(http11) - 1);
}

/// Session tickets (RFC 5077 §4's recommended construction): AES-256-CBC for the state and
/// HMAC-SHA256 over it, with keys GLB rotates. `enc` 1 seals a new ticket (and fills `iv`), 0 opens one.
static inline int cglb_ticket_crypto_init(EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, const unsigned char *aes_key,
                                          const unsigned char *hmac_key, unsigned char *iv, int enc) {
    if (enc && RAND_bytes(iv, 16) != 1) return 0;
    int ok = enc ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, aes_key, iv)
                 : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, aes_key, iv);
    if (ok != 1) return 0;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_init(mac, hmac_key, 32, params) == 1;
}

typedef int (*cglb_ticket_callback)(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int);

/// Subject alternative names of a certificate, one at a time: `index` from 0; returns the DNS
/// name's length (its bytes copied into `out`), 0 for a SAN of another type, -1 past the end.
static inline int cglb_x509_san_dns(X509 *cert, int index, char *out, int capacity) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return -1;
    int result = -1;
    if (index < sk_GENERAL_NAME_num(names)) {
        GENERAL_NAME *name = sk_GENERAL_NAME_value(names, index);
        result = 0;
        if (name->type == GEN_DNS) {
            int length = ASN1_STRING_length(name->d.dNSName);
            if (length > 0 && length <= capacity) {
                memcpy(out, ASN1_STRING_get0_data(name->d.dNSName), (size_t)length);
                result = length;
            }
        }
    }
    GENERAL_NAMES_free(names);
    return result;
}
#endif
