import Formats
import LossMath

/// `report losses --catalogue`: the catalogue as each loss type declares it
/// (``LossMath/LossDescriptor``), for people (markdown) and for scripts (JSON, CSV):
/// Tools/make_references.py and benchmarks/baseline.py read their flags and parameter
/// defaults from the JSON instead of restating them.
enum LossCatalogue {
    /// The columns of the CSV and Markdown forms, in order.
    static let header = [
        "name", "summary", "reward_gap", "needs_reward_gap", "label_smoothing_default", "label_smoothing_range",
        "depends_on_h_only", "has_flat_region", "parameters", "roofline_ops",
    ]

    static func render(_ losses: [Loss], format: RowFormat) -> String {
        switch format {
        case .json:
            return JSONValue.array(losses.map(json)).rendered(pretty: true) + "\n"
        case .csv:
            var w = CSVWriter(header: header)
            for loss in losses { w.appendRow(cells(loss)) }
            return w.text
        case .markdown:
            return MarkdownTable(headers: header, rows: losses.map { cells($0).map { $0.isEmpty ? "-" : $0 } }).render()
        }
    }

    /// One loss as a JSON object; every field of the descriptor, bounds as numbers or null.
    static func json(_ loss: Loss) -> JSONValue {
        let d = loss.descriptor
        func range(_ r: ParameterRange, symbol: String) -> [String: JSONValue] {
            ["lower": r.lower.map(JSONValue.number) ?? .null, "lower_included": .bool(r.lowerIncluded),
             "upper": r.upper.map(JSONValue.number) ?? .null, "upper_included": .bool(r.upperIncluded),
             "requirement": .string(r.requirement(symbol: symbol))]
        }
        let labelSmoothing: JSONValue = d.labelSmoothing.map { ls in
            var o = range(ls.range, symbol: "label_smoothing")
            o["default"] = .number(ls.defaultValue)
            o["note"] = ls.note.map(JSONValue.string) ?? .null
            return .object(o)
        } ?? .null
        let parameters: [JSONValue] = d.parameters.map { p in
            var o = range(p.range, symbol: p.symbol)
            o["name"] = .string(p.name)
            o["symbol"] = .string(p.symbol)
            o["summary"] = .string(p.summary)
            o["default"] = .number(p.defaultValue)
            return .object(o)
        }
        return .object([
            "name": .string(d.name),
            "summary": .string(d.summary),
            "reward_gap": .string(d.rewardGap.rawValue),
            "needs_reward_gap": .bool(loss.needsRewardGap),
            "uses_label_smoothing": .bool(loss.usesLabelSmoothing),
            "label_smoothing": labelSmoothing,
            "depends_on_h_only": .bool(d.dependsOnLogitsDifferenceOnly),
            "has_flat_region": .bool(d.hasFlatRegion),
            "parameters": .array(parameters),
            "roofline_ops": loss.rooflineOps.map(opsJSON) ?? .null,
            "roofline_gradient_ops": loss.rooflineGradientOps.map(opsJSON) ?? .null,
        ])
    }

    static func opsJSON(_ o: RooflineOps) -> JSONValue {
        .object(["exp": .number(o.exp), "log1p": .number(o.log1p), "log": .number(o.log),
                 "expm1": .number(o.expm1), "div": .number(o.div), "sqrt": .number(o.sqrt)])
    }

    static func cells(_ loss: Loss) -> [String] {
        let d = loss.descriptor
        let parameters = d.parameters.map { "\($0.name)=\(shortNumber($0.defaultValue)) (\($0.range.requirement(symbol: $0.symbol)))" }
        let ops = loss.rooflineOps.map { o in
            [("exp", o.exp), ("log1p", o.log1p), ("log", o.log), ("expm1", o.expm1), ("div", o.div), ("sqrt", o.sqrt)]
                .filter { $0.1 > 0 }.map { "\(shortNumber($0.1)) \($0.0)" }.joined(separator: " + ")
        }
        return [
            d.name, d.summary, d.rewardGap.rawValue, String(loss.needsRewardGap),
            d.labelSmoothing.map { shortNumber($0.defaultValue) } ?? "",
            d.labelSmoothing.map { $0.range.requirement(symbol: "label_smoothing") + ($0.note.map { " (\($0))" } ?? "") } ?? "",
            String(d.dependsOnLogitsDifferenceOnly), String(d.hasFlatRegion),
            parameters.joined(separator: "; "),
            ops.map { $0.isEmpty ? "arithmetic only" : $0 } ?? "not modelled",
        ]
    }
}
