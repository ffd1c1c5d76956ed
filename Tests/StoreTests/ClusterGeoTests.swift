import Foundation
import GLBCore
import Store
import Testing

/// Migration 5's geo lists: stored upper-cased, read back, replicated, and absent for old rows.
@Suite struct ClusterGeoTests {
    @Test func countriesAndContinentsRoundTripUpperCased() async throws {
        try await withStore { fixture async throws in
            try await fixture.seed()
            var cluster = Cluster(service: "www", name: "ap", region: "ap-northeast", addresses: ["192.0.2.7"], port: 443)
            cluster.countries = ["jp", "KR"]
            cluster.continents = ["as"]
            let stored = try await fixture.store.putCluster(cluster, context: StoreFixture.admin).record
            #expect(stored.countries == ["JP", "KR"] && stored.continents == ["AS"])
            let read = try #require(try await fixture.store.cluster(service: "www", name: "ap"))
            #expect(read == stored)
            #expect(try await fixture.store.cluster(service: "www", name: "eu")?.countries == [], "a row without lists reads as empty")
            // Clearing the lists is a write like any other.
            var cleared = read
            cleared.countries = []
            #expect(try await fixture.store.putCluster(cleared, context: StoreFixture.admin).record.countries == [])
            #expect(try await fixture.store.cluster(service: "www", name: "ap")?.countries == [])
        }
    }

    @Test func theListsTravelInTheRecordsJSONOnlyWhenSet() throws {
        var cluster = Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["192.0.2.1"], port: 80)
        let plain = String(decoding: try JSONEncoder().encode(cluster), as: UTF8.self)
        #expect(!plain.contains("countries") && !plain.contains("continents"))
        cluster.countries = ["GB"]
        cluster.continents = ["EU"]
        let encoded = try JSONEncoder().encode(cluster)
        let decoded = try JSONDecoder().decode(Cluster.self, from: encoded)
        #expect(decoded.countries == ["GB"] && decoded.continents == ["EU"])
    }
}
