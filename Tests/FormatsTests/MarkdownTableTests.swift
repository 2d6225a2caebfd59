import Testing
@testable import Formats

@Suite("Markdown tables")
struct MarkdownTableTests {
    @Test func alignedColumnsExact() {
        let t = MarkdownTable(headers: ["loss", "value", "note"],
                              alignments: [.left, .right, .center],
                              rows: [["DPO", "0.693", "ok"], ["IPO", "12.5", "wide note"]])
        #expect(t.render() == """
            | loss | value |   note    |
            | :--- | ----: | :-------: |
            | DPO  | 0.693 |    ok     |
            | IPO  |  12.5 | wide note |

            """)
    }

    @Test func narrowColumnsAreAtLeastThreeWideAndDefaultsApply() {
        let t = MarkdownTable(headers: ["a", "b"], rows: [["1"], ["", "22"]])
        #expect(t.render() == """
            | a   | b   |
            | :-- | :-- |
            | 1   |     |
            |     | 22  |

            """)
        let c = MarkdownTable(headers: ["c"], alignments: [.center], rows: [["x"]])
        #expect(c.render() == "|  c  |\n| :-: |\n|  x  |\n")
    }

    @Test func pipesAndNewlinesAreEscaped() {
        let t = MarkdownTable(headers: ["expr"], alignments: [.left], rows: [["a|b"], ["x\ny"]])
        #expect(t.render() == """
            | expr   |
            | :----- |
            | a\\|b   |
            | x<br>y |

            """)
    }

    @Test func widthCountsCharactersNotBytes() {
        let t = MarkdownTable(headers: ["name", "n"], alignments: [.left, .right],
                              rows: [["café", "1"], ["e\u{301}t\u{e9}", "2"], ["🙂👍🏽", "3"], ["abcd", "4"]])
        let lines = t.render().split(separator: "\n")
        #expect(lines[2] == "| café |   1 |")
        #expect(lines[3] == "| e\u{301}t\u{e9}  |   2 |")
        #expect(lines[4] == "| 🙂👍🏽   |   3 |")
        // Every line has the same number of Characters.
        #expect(Set(lines.map(\.count)).count == 1)
    }
}
