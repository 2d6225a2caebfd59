import GSLKit
import LossMath
import Experiments

/// The bit patterns of every field of every record, so equality is bit-for-bit
/// (NaN == NaN, +0 != -0) rather than IEEE equality.
func bitPatterns(_ ms: [StepMetrics]) -> [[UInt64]] {
    ms.map { [UInt64(bitPattern: Int64($0.step))] + $0.metricValues.map(\.bitPattern) }
}

/// `|a - b| <= abs + rel * max(|a|, |b|)`.
func close(_ a: Double, _ b: Double, abs: Double = 0, rel: Double = 1e-9) -> Bool {
    Swift.abs(a - b) <= abs + rel * Swift.max(Swift.abs(a), Swift.abs(b))
}

/// The error a throwing expression threw, as an ExperimentError (nil when none).
func experimentError(_ body: () throws -> Void) -> ExperimentError? {
    do { try body(); return nil } catch let e as ExperimentError { return e } catch { return nil }
}

/// A small tabular problem where every pair of every prompt is observed.
func fullyObserved(prompts: Int = 3, responses: Int = 4, beta: Double = 0.5, labels: SimulationConfig.Labels = .hard,
                   seed: UInt64 = 7, policy: SimulationConfig.Policy = .tabular, features: Int = 3) -> SimulationConfig {
    SimulationConfig(policy: policy, prompts: prompts, responses: responses,
                     pairsPerPrompt: SimulationConfig.distinctPairs(responses: responses), features: features,
                     referenceSpread: 1, rewardSpread: 1, rewardNoise: 0, labels: labels,
                     pairSampling: .fromReference, beta: beta, seed: seed)
}

/// The (column, value text) pairs a flat row encodes, in encoding order: a minimal stand-in
/// for Formats' table encoder (this test target does not depend on Formats). Raw-valued
/// enums record their raw value; numbers their `description`.
func encodedColumns<Row: Encodable>(_ row: Row) throws -> [(String, String)] {
    let capture = ColumnCapture()
    try row.encode(to: capture)
    return capture.box.cells
}

final class ColumnCapture: Encoder {
    final class Box { var cells: [(String, String)] = [] }
    let box = Box()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Container<Key>(box: box))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("rows are flat") }
    func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("rows are flat") }

    struct Container<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: Box
        var codingPath: [any CodingKey] = []
        mutating func encodeNil(forKey key: Key) throws { box.cells.append((key.stringValue, "")) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let text: String
            if let r = value as? any RawRepresentable<String> { text = r.rawValue } else { text = "\(value)" }
            box.cells.append((key.stringValue, text))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> { fatalError("rows are flat") }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { fatalError("rows are flat") }
        mutating func superEncoder() -> any Encoder { fatalError("rows are flat") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("rows are flat") }
    }
}
