#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>

/* Macros Swift cannot import, as functions. */
static inline long sfpg_ssl_ctx_min_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}
static inline int sfpg_ssl_filetype_pem(void) { return SSL_FILETYPE_PEM; }
