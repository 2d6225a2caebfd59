// Small C functions that Swift reaches through the Clang importer, in the way swift-numerics
// does for libm (its _NumericsShims): `static inline` functions over compiler builtins, so that
// they inline into the Swift caller and LLVM sees the plain operation. Nothing here is public
// API of the toolkit.
#ifndef CSHIMS_H
#define CSHIMS_H

/// The correctly rounded square root, sqrt(x) for x >= 0 (NaN for x < 0, +inf for +inf).
///
/// `__builtin_elementwise_sqrt` lowers to LLVM's `llvm.sqrt` with no call to libm's `sqrt` on
/// the side (that call, kept on Linux to set errno for negative inputs, is what stops
/// `Double.squareRoot()` and `__builtin_sqrt` from vectorising), so a loop over it vectorises
/// to the machine's SIMD width. IEEE 754 requires the square root to be correctly rounded:
/// vector lanes give the same bits as the scalar instruction.
/// See also: `intrinsicSquareRoot(_:)` in Experiments (Adam's update), BENCHMARKS.md.
static inline __attribute__((always_inline)) double cshims_sqrt(double x) {
#if __has_builtin(__builtin_elementwise_sqrt)
    return __builtin_elementwise_sqrt(x);
#else
    return __builtin_sqrt(x);
#endif
}

#endif
