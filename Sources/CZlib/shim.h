#include <zlib.h>
/* inflateInit2/deflateInit2 are function-like macros, which Swift cannot import. */
static inline int sfpg_inflateInit2(z_streamp _Nonnull s, int windowBits) { return inflateInit2(s, windowBits); }
static inline int sfpg_deflateInit2(z_streamp _Nonnull s, int level, int windowBits) {
    return deflateInit2(s, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
