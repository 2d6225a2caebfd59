#!/usr/bin/env python3
"""Print the polynomial that LossMath's bernoulliKL uses (Sources/LossMath/Scalar.swift).

G(e) = e - log1p(e) is evaluated for e in [-0.75, 3] as
    G(e) = e^2/(2 + e) + 2 u^3 P(u^2),   u = -e/(2 + e),   u^2 <= 0.36,
where P(v) = sum_{j>=0} v^j / (2j + 3) (from log1p(e) = 2 atanh(e/(2+e))). P is
replaced by its degree-18 Chebyshev fit on [0, 0.36] (mpmath.chebyfit at 60 digits);
the fit's maximum error is printed (about 4e-19, against P >= 1/3).
"""
import mpmath
from mpmath import mp

mp.dps = 60


def P(v):
    return mpmath.fsum(v ** j / (2 * j + 3) for j in range(400))


poly, err = mpmath.chebyfit(P, [0, mpmath.mpf("0.36")], 19, error=True)   # 19 coefficients: degree 18
print("// max |fit - P| on [0, 0.36]: %s" % mpmath.nstr(err, 3))
print("// coefficients, highest degree first:")
for c in poly:
    print("%r," % float(c))
