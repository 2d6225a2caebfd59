import ArgumentParser

/// `--shard i/n` of `report sweep` and `report study`: shard `i` (0-based) of `n`, or nil
/// without the option.
///
/// - Throws: `ValidationError` naming `--shard` unless the text is `i/n` with
///   `n >= 1` and `0 <= i < n`.
func parseShard(_ text: String?) throws -> (index: Int, count: Int)? {
    guard let text else { return nil }
    let parts = text.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
        throw ValidationError("--shard must be written i/n, such as 0/4, got '\(text)'")
    }
    guard n >= 1, i >= 0, i < n else { throw ValidationError("--shard \(text): needs n >= 1 and 0 <= i < n") }
    return (i, n)
}
