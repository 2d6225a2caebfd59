import _CShims

/// The correctly rounded square root, `sqrt(x)`, in a form LLVM vectorises.
///
/// Valid for every `x`: `x >= 0` gives the IEEE square root (bit-identical to
/// `x.squareRoot()`), `+inf` gives `+inf`, `x < 0` and NaN give NaN. Through `_CShims`'s
/// `static inline` C function over Clang's `__builtin_elementwise_sqrt` (the swift-numerics way
/// of reaching compiler builtins), which lowers to LLVM's `llvm.sqrt` alone.
/// `Double.squareRoot()` and `__builtin_sqrt` lower on Linux to `sqrtsd` plus a call to libm's
/// `sqrt` for negative inputs (to set errno), which keeps the loop around them scalar;
/// BENCHMARKS.md has the measurement. Adam's update (`adamRow`) takes the square root of
/// `v / c2 >= 0`.
///
/// See also: `Double.squareRoot()`.
@inline(__always)
func intrinsicSquareRoot(_ x: Double) -> Double { cshims_sqrt(x) }

/// ``intrinsicSquareRoot(_:)`` of each of eight lanes (LLVM joins the eight `llvm.sqrt` into
/// one vector square root; `SIMD8.squareRoot()` goes through `Double.squareRoot()` per lane,
/// with its libm call on the side). Correctly rounded, so each lane is the scalar's bits.
@inline(__always)
func intrinsicSquareRoot(_ x: SIMD8<Double>) -> SIMD8<Double> {
    SIMD8(intrinsicSquareRoot(x[0]), intrinsicSquareRoot(x[1]), intrinsicSquareRoot(x[2]), intrinsicSquareRoot(x[3]),
          intrinsicSquareRoot(x[4]), intrinsicSquareRoot(x[5]), intrinsicSquareRoot(x[6]), intrinsicSquareRoot(x[7]))
}
