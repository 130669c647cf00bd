#ifndef HERALD_CZLIB_SHIM_H
#define HERALD_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 and deflateInit2 are macros that pass the library version and the stream's size; Swift cannot
// call macros, so these wrap them.

/// Starts inflating. `window_bits` 15+32 accepts zlib and gzip headers, -15 raw deflate.
static inline int herald_inflate_init(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

/// Starts deflating with gzip framing (window 15+16) at the given level.
static inline int herald_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// Starts deflating with zlib framing (RFC 1950), what HTTP's `deflate` content coding names.
static inline int herald_deflate_init_zlib(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
}

#endif
