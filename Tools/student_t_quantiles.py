#!/usr/bin/env python3
"""Reference values of the Student-t quantile t_{0.975, df} for the study's tests.

The study's verdicts (report study) use GSL's gsl_cdf_tdist_Pinv; the test
Tests/ExperimentsTests/StudyVerdictTests.swift recomputes every interval with these
literals instead, so the two are independent. Run with mpmath (pip install mpmath):

    python3 Tools/student_t_quantiles.py

It solves CDF(t) = 0.975 with the t distribution's CDF written through the regularised
incomplete beta function, at 40 significant digits, and prints Swift literals.
"""
import mpmath as mp

mp.mp.dps = 40


def t_cdf(t, df):
    x = df / (df + t * t)
    tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2
    return 1 - tail if t > 0 else tail


def t_quantile(p, df):
    return mp.findroot(lambda t: t_cdf(t, df) - p, 2)


for df in range(1, 10):
    print(f"{df}: {mp.nstr(t_quantile(mp.mpf('0.975'), df), 17)},")
