/// One decoded MaxMind DB data field, of any of the format's types (spec "Output Data Section").
/// Built only off the data path: by tests, `glb explain` and metadata parsing. The data path reads
/// just the fields it needs through `MMDBDecoder` without building values.
package indirect enum MMDBValue: Hashable, Sendable {
    /// Type 2.
    case string(String)
    /// Type 3.
    case double(Double)
    /// Type 4.
    case bytes([UInt8])
    /// Type 5.
    case uint16(UInt16)
    /// Type 6.
    case uint32(UInt32)
    /// Type 7: pairs in file order (keys are unique in valid files, but order is kept as written).
    case map([MapEntry])
    /// Type 8.
    case int32(Int32)
    /// Type 9.
    case uint64(UInt64)
    /// Type 10, as two big-endian halves.
    case uint128(high: UInt64, low: UInt64)
    /// Type 11.
    case array([MMDBValue])
    /// Type 12: the data cache container. Nothing points at it; decoded only if asked directly.
    case dataCacheContainer
    /// Type 13: the end marker.
    case endMarker
    /// Type 14.
    case bool(Bool)
    /// Type 15.
    case float(Float)

    /// One key and value of a map.
    package struct MapEntry: Hashable, Sendable {
        package var key: String
        package var value: MMDBValue
    }

    /// The value under `key` if this is a map.
    package subscript(key: String) -> MMDBValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The string, if this is one.
    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }

    /// Any unsigned or signed integer type widened to UInt64 (nil for negative or 128-bit values
    /// that do not fit); metadata fields are written with whichever width fits.
    package var integerValue: UInt64? {
        switch self {
        case .uint16(let v): UInt64(v)
        case .uint32(let v): UInt64(v)
        case .uint64(let v): v
        case .int32(let v): v >= 0 ? UInt64(v) : nil
        case .uint128(let high, let low): high == 0 ? low : nil
        default: nil
        }
    }

    /// A number of any type as a Double (location coordinates are doubles in MaxMind's files).
    package var doubleValue: Double? {
        switch self {
        case .double(let v): v
        case .float(let v): Double(v)
        default: integerValue.map(Double.init)
        }
    }
}
