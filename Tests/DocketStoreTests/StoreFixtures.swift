import DocketCore
import DocketStore
import DocketTestSupport
import Foundation

/// A small world: the sustainability working group of the Eurasia section, its people, three
/// member governments, and the shipped workflows plus a loop workflow for concurrency tests.
enum World {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    static let workflows = TestDatabase.packageRoot.appendingPathComponent("Workflows")

    static let loopYAML = """
        workflow: loop
        version: 1
        title: Loop
        prefix: LP
        create: [secretariat]
        initial: open
        states:
          open:
            due: 7d
            on:
              touch: { to: open, by: [secretariat] }
              close: { to: closed, by: [secretariat] }
          closed: { final: true }
        """

    static func build(_ store: Store) async throws {
        try await store.loadWorkflows(directory: workflows)
        _ = try await store.loadWorkflow(yaml: loopYAML)
        for (slug, name) in [("almaty", "Алматы"), ("kazan", "Казань"), ("bishkek", "Бишкек")] {
            try await store.addMember(.init(slug: slug, name: name, kind: "city", section: "Eurasia"))
        }
        try await store.addGroup(slug: "sustainability-wg", name: "Sustainability working group", themes: ["sustainability"])
        try await store.addGroup(slug: "gender-equity-wg", name: "Gender equity working group", themes: ["gender-equity"])
        try await store.addUser(handle: "ana", name: "Ana Petrova")
        try await store.grant("ana", role: .drafter, group: "sustainability-wg")
        for reviewer in ["bruno", "chen"] {
            try await store.addUser(handle: reviewer, name: reviewer.capitalized)
            try await store.grant(reviewer, role: .reviewer, group: "sustainability-wg")
        }
        try await store.addUser(handle: "dilnoza", name: "Dilnoza Karimova")
        try await store.grant("dilnoza", role: .chair, group: "sustainability-wg")
        try await store.addUser(handle: "sec", name: "Secretariat", roles: [.secretariat])
        try await store.addUser(handle: "omar", name: "Omar")
        try await store.grant("omar", role: .chair, group: "gender-equity-wg")
        for member in ["almaty", "kazan", "bishkek"] {
            try await store.addUser(handle: "rep-\(member)", name: "Representative of \(member)", member: member)
        }
    }
}
