import Foundation
import LossMath
import Testing

/// The registry and the catalogue entries every loss declares: names, flags, parameters, the
/// dispatch to each loss's own kernel, and validation from the declared ranges.
@Suite struct RegistryTests {
    @Test func namesAreUniqueAndRoundTrip() throws {
        let names = Loss.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for loss in Loss.allCases {
            #expect(Loss(rawValue: loss.rawValue) == loss)
            #expect(try Loss(name: " \(loss.rawValue)\t") == loss)
        }
        #expect(Loss(rawValue: "dpo") == nil)
        // The surface the code base uses: static members, names, Hashable.
        #expect(Loss.sigmoid.rawValue == "sigmoid" && Loss.exoPair.rawValue == "exo_pair" && Loss.spoAsym.rawValue == "spo_asym")
        #expect(Set(Loss.allCases).count == Loss.allCases.count)
    }

    @Test func codableAsName() throws {
        for loss in Loss.allCases {
            let data = try JSONEncoder().encode([loss])
            #expect(String(decoding: data, as: UTF8.self) == "[\"\(loss.rawValue)\"]")
            #expect(try JSONDecoder().decode([Loss].self, from: data) == [loss])
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Loss].self, from: Data("[\"dpo\"]".utf8)) }
    }

    /// Parameter names are unique over the catalogue, carry their loss's name, and their
    /// defaults are valid; label-smoothing defaults lie in their ranges.
    @Test func declaredParametersAreConsistent() {
        var seen: Set<String> = []
        for loss in Loss.allCases {
            let d = loss.descriptor
            for p in d.parameters {
                #expect(seen.insert(p.name).inserted, "\(p.name) declared twice")
                #expect(p.name.hasPrefix(d.name.split(separator: "_").first.map(String.init) ?? d.name), "\(p.name) of \(d.name)")
                #expect(p.range.contains(p.defaultValue), "\(p.name) default \(p.defaultValue) outside \(p.range.requirement(symbol: p.symbol))")
                #expect(Loss.parameter(named: p.name)?.loss == loss)
            }
            if let ls = d.labelSmoothing { #expect(ls.range.contains(ls.defaultValue), "\(d.name) label smoothing default") }
            #expect(!d.summary.isEmpty)
        }
    }

    /// Each parameter's range is enforced by `validate`, with the parameter's name.
    @Test func validationFollowsDeclaredRanges() {
        for loss in Loss.allCases {
            for p in loss.descriptor.parameters {
                var ok = parameters(for: loss, beta: 0.1)
                ok.values[p.name] = p.defaultValue
                #expect(throws: Never.self) { try loss.validate(ok) }
                var bad = ok
                bad.values[p.name] = .infinity
                #expect(throws: LossMathError.invalidParameter(name: p.name, value: .infinity, requirement: p.range.requirement(symbol: p.symbol))) {
                    try loss.validate(bad)
                }
                if let l = p.range.lower {
                    bad.values[p.name] = p.range.lowerIncluded ? l.nextDown : l
                    #expect(throws: LossMathError.self) { try loss.validate(bad) }
                }
            }
        }
        #expect(throws: LossMathError.unknownParameter("foo")) { try Loss.validateParameterNames(["foo": 1]) }
        #expect(throws: Never.self) { try Loss.validateParameterNames([Losses.BDPO.lambda.name: 0.3]) }
    }

    /// The dispatch reaches each loss's own kernel: `withKernel` sees the registered type.
    struct KernelName: PairLossKernelVisitor {
        func visit<K: PairLossKernel>(_ kernel: K) -> String { (K.self as? any PreferenceLoss.Type)?.descriptor.name ?? "?" }
    }

    @Test func withKernelDispatchesToTheLossType() {
        for loss in Loss.allCases {
            #expect(loss.withKernel(parameters(for: loss, beta: 0.1), KernelName()) == loss.rawValue)
        }
    }

    /// Parameters reach the kernel: a changed bdpo lambda changes the loss.
    @Test func parametersReachTheKernel() {
        let pair = PairLogProbs(chosen: -2, rejected: -3, refChosen: -1.5, refRejected: -2)   // u_w = -0.5, u_l = -1
        for loss in Loss.allCases {
            for p in loss.descriptor.parameters {
                var a = parameters(for: loss, beta: 0.5)
                var b = a
                a.values[p.name] = p.defaultValue
                b.values[p.name] = p.range.contains(p.defaultValue + 0.25) ? p.defaultValue + 0.25 : p.defaultValue / 2
                #expect(loss.evaluate(pair, a).value != loss.evaluate(pair, b).value, "\(p.name) does not reach \(loss.rawValue)")
            }
        }
    }
}
