import Testing
@testable import LossMath

/// `shortNumber`, the 6-significant-digit text of titles and notes. Expected texts are the
/// values rounded by hand to 6 significant digits, written as Swift writes a double.
@Suite struct ShortNumberTests {
    @Test(arguments: [
        (0.1, "0.1"),
        (1.0 / 3.0, "0.333333"),
        (-2.0 / 3.0, "-0.666667"),
        (1e-5, "1e-05"),
        (3.0, "3"),
        (1234567.5, "1234570"),
        (1e300, "1e+300"),
        // Before: the rounding scale 10^(5 - e) overflowed to infinity below about 1e-303 and
        // the text was "nan" (`report losses --summary --reward-gap 1e-310` printed
        // "reward gap: the constant nan"); now the shortest round-trip text.
        (1e-310, "1e-310"),
        (-2.5e-320, "-2.5e-320"),
        (5e-324, "5e-324"),
        (1.5e-305, "1.5e-305"),
    ])
    func sixSignificantDigits(x: Double, text: String) {
        #expect(shortNumber(x) == text)
    }

    @Test func everyFiniteValueGivesANumber() {
        var x = 4.9e-324
        while x.isFinite {
            let s = shortNumber(x)
            #expect(Double(s) != nil && !s.contains("nan") && !s.contains("inf"), "\(x): \(s)")
            x *= 7.3
        }
    }
}
