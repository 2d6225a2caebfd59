import _CZlib

/// A gzip (or zlib) decompressor fed piece by piece: the streaming form of
/// ``Gzip/decompress(_:source:maxOutputBytes:)``, with the same rules: several members one
/// after another, trailing zero bytes ignored, other trailing bytes read as a member (so
/// their error is zlib's), a stream that ends before its end marker is
/// ``FormatError/Kind/truncatedCompressedData``.
///
/// The `z_stream` lives on the heap: zlib keeps a pointer back to it, so it must not move.
///
/// See also: ``InputByteStream``.
final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let source: String
    private var output = [UInt8](repeating: 0, count: 1 << 18)
    private enum State { case inMember, betweenMembers, trailingZeros(Int) }
    private var state = State.inMember

    init(source: String) throws(FormatError) {
        self.source = source
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard czlib_inflate_init2(stream, 15 + 32) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw FormatError(.corruptCompressedData("zlib could not start (out of memory)"), source: source)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decompresses from the start of `input` until one piece of output (at most 256 KiB)
    /// has gone to `sink` or `input` is used up; the number of input bytes consumed (the
    /// caller passes the rest again). So memory stays bounded whatever the ratio.
    func inflate(_ input: UnsafeBufferPointer<UInt8>,
                 sink: (UnsafeBufferPointer<UInt8>) throws(FormatError) -> Void) throws(FormatError) -> Int {
        guard let base = input.baseAddress else { return 0 }
        var pos = 0
        while pos < input.count {
            switch state {
            case .trailingZeros(let zeros):
                var z = zeros
                while pos < input.count && input[pos] == 0 { pos += 1; z += 1 }
                if pos == input.count { state = .trailingZeros(z); return pos }
                // Not padding after all: read the zeros as the start of a member, as the
                // whole-input decompressor does (zlib rejects the header).
                guard inflateReset(stream) == Z_OK else { throw fail(.corruptCompressedData("zlib could not restart")) }
                state = .inMember
                let zeros = [UInt8](repeating: 0, count: min(z, 16))
                try zeros.withUnsafeBufferPointer { (b) throws(FormatError) in _ = try run(b, sink: sink) }
            case .betweenMembers:
                if input[pos] == 0 { state = .trailingZeros(0); continue }
                guard inflateReset(stream) == Z_OK else { throw fail(.corruptCompressedData("zlib could not restart")) }
                state = .inMember
            case .inMember:
                let (used, produced) = try run(UnsafeBufferPointer(start: base + pos, count: input.count - pos), sink: sink)
                pos += used
                if produced { return pos }
            }
        }
        return pos
    }

    /// Output that zlib still holds after the input is used up (when the last call filled
    /// the output buffer exactly).
    func drain(sink: (UnsafeBufferPointer<UInt8>) throws(FormatError) -> Void) throws(FormatError) {
        let none = [UInt8](repeating: 0, count: 1)
        while case .inMember = state {
            let produced = try none.withUnsafeBufferPointer { (b) throws(FormatError) in
                try run(UnsafeBufferPointer(rebasing: b[0..<0]), sink: sink).produced
            }
            if !produced { return }
        }
    }

    /// Inflates from `input` until it is used up, a member ends, or the output buffer has
    /// been filled once; the bytes consumed and whether output was produced.
    private func run(_ input: UnsafeBufferPointer<UInt8>,
                     sink: (UnsafeBufferPointer<UInt8>) throws(FormatError) -> Void) throws(FormatError) -> (used: Int, produced: Bool) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.pointee.avail_in = uInt(input.count)
        let chunk = output.count
        var producedAny = false
        while true {
            let status = output.withUnsafeMutableBufferPointer { b -> Int32 in
                stream.pointee.next_out = b.baseAddress
                stream.pointee.avail_out = uInt(chunk)
                return _CZlib.inflate(stream, Z_NO_FLUSH)
            }
            let produced = chunk - Int(stream.pointee.avail_out)
            if produced > 0 {
                producedAny = true
                try output.withUnsafeBufferPointer { (b) throws(FormatError) in
                    try sink(UnsafeBufferPointer(rebasing: b[0..<produced]))
                }
            }
            let consumed = input.count - Int(stream.pointee.avail_in)
            switch status {
            case Z_STREAM_END:
                state = .betweenMembers
                return (consumed, producedAny)
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_out == 0 { return (consumed, true) }
                if stream.pointee.avail_in == 0 { return (consumed, producedAny) }
                if status == Z_BUF_ERROR { throw fail(.truncatedCompressedData) }
            case Z_NEED_DICT:
                throw fail(.corruptCompressedData("the stream needs a preset dictionary"))
            case Z_MEM_ERROR:
                throw fail(.corruptCompressedData("out of memory"))
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "invalid compressed data"
                throw fail(.corruptCompressedData(message))
            }
        }
    }

    /// At the end of the input: an unfinished member is a truncated stream.
    func finish() throws(FormatError) {
        if case .inMember = state { throw fail(.truncatedCompressedData) }
    }

    private func fail(_ kind: FormatError.Kind) -> FormatError { FormatError(kind, source: source) }
}
