/// Aligned text tables for people; scripts use `--json`.
struct Table {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// Columns padded to their widest cell, separated by two spaces, no trailing blanks.
    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (i, cell) in cells.enumerated() {
                out += i == cells.count - 1 ? cell : cell.padding(to: widths[i]) + "  "
            }
            return String(out.reversed().drop { $0 == " " }.reversed())
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
