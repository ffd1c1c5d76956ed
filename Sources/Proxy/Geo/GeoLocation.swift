#if canImport(Glibc)
import Glibc                  // sin, cos, asin, sqrt: libm, not Foundation, on the data path
#endif

/// Where a client is, as far as routing cares: a country, a continent, optionally coordinates and
/// an operator region (from the CIDR map). Plain integers and doubles: built per query without
/// allocating.
package struct GeoLocation: Hashable, Sendable {
    /// ISO 3166-1 alpha-2, or unknown.
    package var country = GeoCode.unknown
    /// Continent code, or unknown.
    package var continent = GeoCode.unknown
    /// Degrees north; NaN when unknown.
    package var latitude = Double.nan
    /// Degrees east; NaN when unknown.
    package var longitude = Double.nan
    /// The operator region from the CIDR map (index into `GeoSources.regions`), or -1.
    package var region: Int32 = -1

    /// Nothing known.
    package init() {}

    /// Equal when every field is; unknown coordinates (NaN) equal each other, unlike `Double`'s
    /// `==`, so a location compares equal to itself.
    package static func == (a: GeoLocation, b: GeoLocation) -> Bool {
        a.country == b.country && a.continent == b.continent && a.region == b.region
            && a.latitude.bitPattern == b.latitude.bitPattern && a.longitude.bitPattern == b.longitude.bitPattern
    }

    /// Hashes what `==` compares.
    package func hash(into hasher: inout Hasher) {
        hasher.combine(country)
        hasher.combine(continent)
        hasher.combine(region)
        hasher.combine(latitude.bitPattern)
        hasher.combine(longitude.bitPattern)
    }

    /// True when latitude and longitude are both known.
    package var hasCoordinates: Bool { !latitude.isNaN && !longitude.isNaN }

    /// Great-circle distance in kilometres (haversine, mean Earth radius 6371 km); infinity if
    /// either side lacks coordinates. Good to a fraction of a percent, which is all "nearest"
    /// needs.
    @inline(__always)
    package static func distance(latitude a: Double, longitude b: Double, latitude c: Double, longitude d: Double) -> Double {
        guard !a.isNaN, !b.isNaN, !c.isNaN, !d.isNaN else { return .infinity }
        let radians = Double.pi / 180
        let dLat = (c - a) * radians, dLong = (d - b) * radians
        let s1 = sin(dLat / 2), s2 = sin(dLong / 2)
        let h = s1 * s1 + cos(a * radians) * cos(c * radians) * s2 * s2
        return 2 * 6371 * asin(sqrt(min(1, h)))
    }
}
