// A thin C shim over zlib (Debian's zlib1g-dev, found through pkg-config `zlib`).
//
// zlib's initialisers `inflateInit2` and `deflateInit2` are function-like macros (they
// pass ZLIB_VERSION and sizeof(z_stream) to the real functions), which Swift cannot
// import; these `static inline` wrappers make them callable. Nothing here is public API
// of the toolkit: Formats wraps it as `Gzip`.
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2(strm, windowBits): 15 + 32 accepts both gzip and zlib headers.
static inline int czlib_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

/// deflateInit2 with the default memory level and strategy; windowBits 15 + 16 writes gzip.
static inline int czlib_deflate_init2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

#endif
