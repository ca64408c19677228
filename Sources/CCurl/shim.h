#include <curl/curl.h>
/* curl_easy_setopt and curl_easy_getinfo are C variadics, which Swift does not import:
   one typed wrapper per argument kind. */
static inline CURLcode sfpg_curl_setopt_long(CURL *_Nonnull h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_setopt_off(CURL *_Nonnull h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_setopt_str(CURL *_Nonnull h, CURLoption o, const char *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_setopt_ptr(CURL *_Nonnull h, CURLoption o, void *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_setopt_slist(CURL *_Nonnull h, CURLoption o, struct curl_slist *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_setopt_write(CURL *_Nonnull h, CURLoption o, curl_write_callback _Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_setopt_xferinfo(CURL *_Nonnull h, CURLoption o, curl_xferinfo_callback _Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sfpg_curl_getinfo_long(CURL *_Nonnull h, CURLINFO i, long *_Nonnull v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode sfpg_curl_getinfo_off(CURL *_Nonnull h, CURLINFO i, curl_off_t *_Nonnull v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode sfpg_curl_getinfo_double(CURL *_Nonnull h, CURLINFO i, double *_Nonnull v) { return curl_easy_getinfo(h, i, v); }
