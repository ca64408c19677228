#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
/* BIO_new_mem_buf etc. import directly; nothing here is variadic or a macro that Swift needs. */
