import _CGSL

/// A seeded pseudo-random generator: GSL's MT19937 (`gsl_rng_mt19937`).
///
/// The same seed gives the same stream on every machine, so every simulated run is
/// reproducible byte for byte. Not thread-safe: give each worker its own generator,
/// seeded from the run's seed (see ``RandomGenerator/derivedSeed(_:_:)``).
public final class RandomGenerator {
    private let rng: UnsafeMutablePointer<gsl_rng>

    /// Creates a generator seeded with `seed`. GSL maps seed 0 to its default seed 4357;
    /// we pass the seed through unchanged so the behaviour matches GSL's documentation.
    public init(seed: UInt64) {
        GSL.ensureInitialized()
        guard let r = gsl_rng_alloc(cgsl_rng_type_mt19937()) else {
            fatalError("GSL could not allocate a random number generator (out of memory)")
        }
        rng = r
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(rng) }

    /// A uniform double in [0, 1) (`gsl_rng_uniform`).
    @inline(__always)
    public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// A uniform double in (0, 1), never 0 (`gsl_rng_uniform_pos`).
    @inline(__always)
    public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

    /// The generator's next raw output (`gsl_rng_get`), in 0...2^32-1 for MT19937.
    @inline(__always)
    public func raw() -> UInt { gsl_rng_get(rng) }

    /// A uniform integer in 0..<n (`gsl_rng_uniform_int`). Requires 0 < n < 2^32 (GSL
    /// rejects n above the generator's range; with its handler off it would return 0).
    @inline(__always)
    public func uniformInt(below n: Int) -> Int {
        precondition(n > 0 && n <= 4_294_967_295, "uniformInt(below:) needs 0 < n < 2^32")
        return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// A normal deviate with mean 0 and standard deviation `sigma` (`gsl_ran_gaussian_ziggurat`).
    @inline(__always)
    public func gaussian(sigma: Double) -> Double {
        gsl_ran_gaussian_ziggurat(rng, sigma)
    }

    /// A Bernoulli draw with success probability `p` (`gsl_ran_bernoulli`).
    @inline(__always)
    public func bernoulli(_ p: Double) -> Bool {
        gsl_ran_bernoulli(rng, p) == 1
    }

    /// A seed for stream `index` derived from `seed` by SplitMix64, so that parallel
    /// workers and shards get independent, reproducible streams.
    public static func derivedSeed(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (index &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
