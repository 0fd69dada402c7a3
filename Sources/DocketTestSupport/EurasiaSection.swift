import DocketClient

/// The Eurasia section's sustainability and gender equity working groups, set up through
/// the admin protocol shared by the server and CLI tests.
public enum EurasiaSection {
    public static let users = ["ana", "bruno", "chen", "dilnoza", "sec", "omar", "rep-almaty", "rep-kazan", "rep-bishkek", "rep-tbilisi"]

    public static func setUp(_ admin: DocketClient) async throws {
        for (slug, name, country) in [("almaty", "Алматы", "KZ"), ("kazan", "Казань", "RU"), ("bishkek", "Бишкек", "KG"), ("tbilisi", "თბილისი", "GE")] {
            try await admin.call("MEMBER.ADD", slug, name, "KIND", "city", "COUNTRY", country, "SECTION", "Eurasia")
        }
        try await admin.call("GROUP.ADD", "sustainability-wg", "Sustainability working group", "THEME", "sustainability")
        try await admin.call("GROUP.ADD", "gender-equity-wg", "Gender equity working group", "THEME", "gender-equity")
        try await admin.call("USER.ADD", "ana", "Ana Petrova")
        try await admin.call("USER.GRANT", "ana", "drafter", "GROUP", "sustainability-wg")
        for reviewer in ["bruno", "chen"] {
            try await admin.call("USER.ADD", reviewer, reviewer.capitalized)
            try await admin.call("USER.GRANT", reviewer, "reviewer", "GROUP", "sustainability-wg")
        }
        try await admin.call("USER.ADD", "dilnoza", "Dilnoza Karimova")
        try await admin.call("USER.GRANT", "dilnoza", "chair", "GROUP", "sustainability-wg")
        try await admin.call("USER.ADD", "sec", "Secretariat desk", "ROLE", "secretariat")
        try await admin.call("USER.ADD", "omar", "Omar Haddad")
        try await admin.call("USER.GRANT", "omar", "chair", "GROUP", "gender-equity-wg")
        for member in ["almaty", "kazan", "bishkek", "tbilisi"] {
            try await admin.call("USER.ADD", "rep-\(member)", "Representative of \(member)", "MEMBER", member)
        }
    }
}
