// A thin C shim over GNU GSL (Debian's libgsl-dev, found through pkg-config `gsl`).
//
// Swift 6 rejects direct use of C global variables such as `gsl_rng_mt19937` (they are
// mutable shared state as far as the importer knows), so every GSL global that Swift
// needs is reached through a `static inline` accessor here. Nothing in this header is
// public API of the toolkit: GSLKit wraps it under Swift names.
#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_deriv.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_cdf.h>

// Random number generator types.
static inline const gsl_rng_type *cgsl_rng_type_mt19937(void) { return gsl_rng_mt19937; }

// One-dimensional root solvers.
static inline const gsl_root_fsolver_type *cgsl_root_fsolver_brent(void) { return gsl_root_fsolver_brent; }

// ODE steppers.
static inline const gsl_odeiv2_step_type *cgsl_odeiv2_step_rk8pd(void) { return gsl_odeiv2_step_rk8pd; }
static inline const gsl_odeiv2_step_type *cgsl_odeiv2_step_msbdf(void) { return gsl_odeiv2_step_msbdf; }

// Multidimensional minimisers.
static inline const gsl_multimin_fminimizer_type *cgsl_multimin_nmsimplex2(void) { return gsl_multimin_fminimizer_nmsimplex2; }
static inline const gsl_multimin_fdfminimizer_type *cgsl_multimin_vector_bfgs2(void) { return gsl_multimin_fdfminimizer_vector_bfgs2; }

// gsl_vector element access without range checks (callers index within size).
static inline double cgsl_vector_get(const gsl_vector *v, size_t i) { return v->data[i * v->stride]; }
static inline void cgsl_vector_set(gsl_vector *v, size_t i, double x) { v->data[i * v->stride] = x; }

#endif
