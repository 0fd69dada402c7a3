/// The Eurasia section as `docket seed --demo` creates it: member cities and regions with
/// their names in their own scripts, working groups for the three themes, people and roles.
enum DemoData {
    struct Member {
        var slug, name, kind, country: String
    }

    static let members: [Member] = [
        Member(slug: "kazan", name: "Казань", kind: "city", country: "RU"),
        Member(slug: "tatarstan", name: "Республика Татарстан", kind: "region", country: "RU"),
        Member(slug: "moscow", name: "Москва", kind: "metropolis", country: "RU"),
        Member(slug: "novosibirsk", name: "Новосибирск", kind: "city", country: "RU"),
        Member(slug: "almaty", name: "Алматы", kind: "metropolis", country: "KZ"),
        Member(slug: "astana", name: "Астана", kind: "city", country: "KZ"),
        Member(slug: "bishkek", name: "Бишкек", kind: "city", country: "KG"),
        Member(slug: "tbilisi", name: "თბილისი", kind: "city", country: "GE"),
        Member(slug: "batumi", name: "ბათუმი", kind: "city", country: "GE"),
        Member(slug: "nalag", name: "საქართველოს ადგილობრივ თვითმმართველობათა ეროვნული ასოციაცია", kind: "association", country: "GE"),
        Member(slug: "yerevan", name: "Երևան", kind: "city", country: "AM"),
        Member(slug: "gyumri", name: "Գյումրի", kind: "city", country: "AM"),
        Member(slug: "baku", name: "Bakı", kind: "city", country: "AZ"),
        Member(slug: "tashkent", name: "Toshkent", kind: "city", country: "UZ"),
        Member(slug: "samarkand", name: "Samarqand viloyati", kind: "region", country: "UZ"),
        Member(slug: "dushanbe", name: "Душанбе", kind: "city", country: "TJ"),
        Member(slug: "ulaanbaatar", name: "Улаанбаатар", kind: "city", country: "MN"),
    ]

    struct Group {
        var slug, name: String
        var theme: String?
    }

    static let groups: [Group] = [
        Group(slug: "gender-equity-wg", name: "Working group on gender equity", theme: "gender-equity"),
        Group(slug: "sustainability-wg", name: "Working group on sustainable cities", theme: "sustainability"),
        Group(slug: "local-innovation-wg", name: "Working group on local innovation", theme: "local-innovation"),
        Group(slug: "executive-bureau", name: "Executive Bureau of the Eurasia section", theme: nil),
    ]

    struct Person {
        var handle, name: String
        var member: String?
        var global: [String] = []
        /// `group:role` pairs.
        var grants: [String] = []
    }

    static let people: [Person] = [
        Person(handle: "aigul", name: "Айгуль Сафина", member: nil, global: ["secretariat"]),
        Person(handle: "rustam", name: "Рустам Хамидуллин", member: nil, global: ["secretariat"]),
        Person(handle: "nino", name: "ნინო ბერიძე", member: "tbilisi", grants: ["gender-equity-wg:chair", "executive-bureau:reviewer"]),
        Person(handle: "anahit", name: "Անահիտ Սարգսյան", member: "yerevan", grants: ["gender-equity-wg:drafter"]),
        Person(handle: "dilnoza", name: "Dilnoza Karimova", member: "tashkent", grants: ["sustainability-wg:chair", "executive-bureau:reviewer"]),
        Person(handle: "aibek", name: "Айбек Жумабаев", member: "bishkek", grants: ["sustainability-wg:drafter"]),
        Person(handle: "giorgi", name: "გიორგი კაპანაძე", member: "batumi", grants: ["sustainability-wg:reviewer", "gender-equity-wg:reviewer"]),
        Person(handle: "olga", name: "Ольга Смирнова", member: "novosibirsk", grants: ["sustainability-wg:reviewer", "local-innovation-wg:reviewer"]),
        Person(handle: "arman", name: "Арман Нурланов", member: "almaty", grants: ["local-innovation-wg:chair", "executive-bureau:chair"]),
        Person(handle: "leyla", name: "Leyla Məmmədova", member: "baku", grants: ["local-innovation-wg:drafter", "gender-equity-wg:reviewer"]),
        Person(handle: "batbayar", name: "Батбаяр Должин", member: "ulaanbaatar", grants: ["local-innovation-wg:reviewer", "executive-bureau:reviewer"]),
        Person(handle: "timur", name: "Тимур Ахмедов", member: "dushanbe", grants: ["gender-equity-wg:reviewer"]),
        Person(handle: "gulnara", name: "Гульнара Исмагилова", member: "kazan"),
        Person(handle: "aram", name: "Արամ Հովհաննիսյան", member: "gyumri"),
        Person(handle: "zhanna", name: "Жанна Ахметова", member: "astana"),
        Person(handle: "marat", name: "Марат Галиев", member: "tatarstan"),
    ]

    /// Loaded by the seed only, so that a fresh demo shows overdue items: its dues are
    /// seconds long. The shipped workflows' dues are days and weeks, and the seed cannot
    /// move time.
    static let urgentRequestWorkflow = """
        # Demo only, loaded by `docket seed --demo`: dues of seconds, so that items the seed
        # leaves open are overdue moments later and the board shows what overdue looks like.
        workflow: urgent-request
        version: 1
        title: "Urgent request from a member (demo timings: dues in seconds)"
        prefix: UR
        create: [secretariat, admin]
        fields:
          summary: { type: text, title: What the member asks for }
        initial: received
        states:
          received:
            title: Received, to acknowledge
            due: 2s
            on:
              acknowledge: { to: handling, by: [secretariat] }
              close: { to: closed, by: [secretariat] }
          handling:
            title: Being handled
            due: 3s
            on:
              close: { to: closed, by: [secretariat] }
          closed: { final: true, title: Closed }
        """

    /// A policy paper's text in Markdown.
    static func paper(_ title: String, why: String, recommendations: [String]) -> String {
        var out = "# \(title)\n\n## Why it matters\n\n\(why)\n\n## Recommendations\n\n"
        for (i, r) in recommendations.enumerated() { out += "\(i + 1). \(r)\n" }
        return out + "\n## Next steps\n\nThe working group will present the paper at the section's next Council meeting.\n"
    }
}
