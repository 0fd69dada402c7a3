import DocketCore
import DocketWire
import Foundation

/// Drives the demo items through real transitions, as the people who would do each step.
struct DemoScript {
    let cast: DemoCast
    let secretariat = "aigul"

    /// Items created, by workflow.
    final class Tally {
        var created: [String: Int] = [:]
        var adoptedPaper: String?
    }
    let tally = Tally()

    struct Group {
        var slug, theme, chair, drafter: String
        var reviewers: [String]
    }

    static let gender = Group(slug: "gender-equity-wg", theme: "gender-equity", chair: "nino", drafter: "anahit", reviewers: ["giorgi", "timur"])
    static let sustainability = Group(slug: "sustainability-wg", theme: "sustainability", chair: "dilnoza", drafter: "aibek", reviewers: ["giorgi", "olga"])
    static let innovation = Group(slug: "local-innovation-wg", theme: "local-innovation", chair: "arman", drafter: "leyla", reviewers: ["olga", "batbayar"])

    func create(_ user: String, _ workflow: String, _ title: String, group: String?, theme: String?, fields: [(String, String)] = []) async throws -> String {
        var args = ["ITEM.CREATE", workflow, title]
        if let theme { args += ["THEME", theme] }
        if let group { args += ["GROUP", group] }
        for (k, v) in fields { args += ["FIELD", k, v] }
        let item = try await cast.call(user, args)
        tally.created[workflow, default: 0] += 1
        return item.text("id")
    }

    func fire(_ user: String, _ id: String, _ transition: String, _ comment: String? = nil) async throws {
        var args = ["ITEM.FIRE", id, transition]
        if let comment { args += ["COMMENT", comment] }
        try await cast.call(user, args)
    }

    // MARK: policy papers

    enum PaperStage: Int, Comparable {
        case drafting, peerReview, secretariatReview, endorsement, adopted
        static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// A paper taken as far as `stage`: `votes` reviewers approve in peer review (all of
    /// them from secretariat review on), `endorsers` endorse.
    @discardableResult
    func paper(_ group: Group, _ title: String, summary: String, why: String, recommendations: [String], stage: PaperStage,
               votes: Int = 2, endorsers: [String] = [], summit: String? = nil, revisions: Int = 1) async throws -> String {
        var fields: [(String, String)] = []
        if let summit { fields.append(("summit", summit)) }
        let id = try await create(group.drafter, "policy-paper", title, group: group.slug, theme: group.theme, fields: fields)
        guard stage > .drafting || revisions > 0 else { return id }
        try await cast.call(group.drafter, "ITEM.SET", id, "summary", summary)
        let body = DemoData.paper(title, why: why, recommendations: recommendations)
        try await cast.call(group.drafter, "ITEM.REVISE", id, body, "NOTE", "first full draft")
        if revisions > 1 {
            let revised = body.replacingOccurrences(of: "## Next steps", with: "## Evidence\n\nFigures come from the members' voluntary local reviews.\n\n## Next steps")
            try await cast.call(group.drafter, "ITEM.REVISE", id, revised, "NOTE", "evidence section added after the working group's call")
        }
        guard stage > .drafting else { return id }
        try await fire(group.drafter, id, "submit", "ready for peer review")
        try await cast.call(group.chair, ["REVIEW.ASSIGN", id] + group.reviewers)
        let voters = stage > .peerReview ? group.reviewers : Array(group.reviewers.prefix(votes))
        for reviewer in voters {
            try await cast.call(reviewer, "REVIEW.VOTE", id, "APPROVE", "COMMENT", "clear and well sourced")
        }
        guard stage > .peerReview else { return id }
        try await fire(group.chair, id, "accept", "peer review complete")
        guard stage > .secretariatReview else { return id }
        try await fire(secretariat, id, "open-endorsement", "open to all members of the section")
        for endorser in endorsers {
            try await cast.call(endorser, "ENDORSE", id, try await member(of: endorser), "COMMENT", "supported by our council")
        }
        guard stage > .endorsement else { return id }
        try await fire(secretariat, id, "adopt", "adopted as the position of the section")
        return id
    }

    private func member(of user: String) async throws -> String {
        DemoData.people.first { $0.handle == user }?.member ?? user
    }

    func papers() async throws {
        tally.adoptedPaper = try await paper(Self.gender, "Women in local leadership: closing the gap in city councils",
                        summary: "Targets and support measures so that women hold at least 40% of council seats by 2030.",
                        why: "Women hold fewer than one in four council seats across the section's members.",
                        recommendations: ["Publish the share of women in every council each year.", "Fund mentoring for first-time candidates.",
                                          "Schedule council sessions compatible with care duties."],
                        stage: .adopted, endorsers: ["nino", "anahit", "gulnara", "zhanna"], summit: "UCLG World Council 2026", revisions: 2)
        try await paper(Self.sustainability, "Green public procurement in member cities",
                        summary: "Common criteria so that cities buy low-carbon goods and services.",
                        why: "Public purchasing is a fifth of municipal spending and a lever on local markets.",
                        recommendations: ["Adopt shared green criteria for vehicles, buildings and food.", "Train procurement officers together."],
                        stage: .adopted, endorsers: ["aibek", "dilnoza", "olga"])
        try await paper(Self.sustainability, "Heat action plans for Central Asian cities",
                        summary: "What cities should prepare before summer heatwaves.",
                        why: "Heatwaves in Tashkent, Almaty and Dushanbe now last twice as long as in 2000.",
                        recommendations: ["Map heat-vulnerable districts.", "Open cooling centres.", "Plant shade trees along walking routes."],
                        stage: .endorsement, endorsers: ["dilnoza", "timur"])
        try await paper(Self.innovation, "Open data standards for municipal services",
                        summary: "A common open data profile for transport, budgets and permits.",
                        why: "Members publish data in incompatible formats, so nobody can compare or reuse it.",
                        recommendations: ["Publish budgets in one machine-readable format.", "Share transport data as GTFS."],
                        stage: .secretariatReview)
        try await paper(Self.gender, "Safe public transport for women and girls",
                        summary: "Measures that make buses and metro stations safer at night.",
                        why: "Surveys in member cities show most women avoid public transport after dark.",
                        recommendations: ["Light every stop.", "Let buses stop on request at night.", "Train drivers to respond to harassment."],
                        stage: .peerReview, votes: 1)
        let sentBack = try await paper(Self.sustainability, "Localising the SDGs: voluntary local reviews",
                                       summary: "How members can report on the Sustainable Development Goals at city level.",
                                       why: "Only a few members have published a voluntary local review so far.",
                                       recommendations: ["Share a template for local reviews.", "Pair experienced cities with newcomers."],
                                       stage: .peerReview, votes: 0)
        try await cast.call("olga", "REVIEW.VOTE", sentBack, "CHANGES", "COMMENT", "needs examples from at least three members")
        try await fire("dilnoza", sentBack, "send-back", "please add member examples")
        try await paper(Self.innovation, "Participatory budgeting toolkit", summary: "", why: "", recommendations: [], stage: .drafting, revisions: 0)
        let withdrawn = try await create("anahit", "policy-paper", "Gender-responsive budgeting in regions", group: Self.gender.slug, theme: Self.gender.theme)
        try await fire("anahit", withdrawn, "withdraw", "merged into the paper on women in local leadership")
    }

    // MARK: thematic projects

    enum ProjectStage: Int, Comparable {
        case proposal, appraisal, approval, active, reporting, completed
        static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    @discardableResult
    func project(_ group: Group, _ title: String, summary: String, budget: Int, lead: String, scale: String,
                 milestones: [String] = [], done: Int = 0, stage: ProjectStage) async throws -> String {
        let id = try await create(group.drafter, "thematic-project", title, group: group.slug, theme: group.theme,
                                  fields: [("summary", summary), ("budget", String(budget)), ("lead-member", lead), ("scale", scale)])
        try await cast.call(group.drafter, "ITEM.REVISE", id, "# \(title)\n\n\(summary)\n\n## Budget\n\n\(budget) euros over two years.\n")
        guard stage > .proposal else { return id }
        try await fire(group.drafter, id, "submit")
        try await cast.call(group.chair, ["REVIEW.ASSIGN", id] + group.reviewers)
        guard stage > .appraisal else { return id }
        for reviewer in group.reviewers { try await cast.call(reviewer, "REVIEW.VOTE", id, "APPROVE") }
        try await fire(group.chair, id, "recommend")
        guard stage > .approval else { return id }
        try await fire(secretariat, id, "approve", "funded from the section's programme budget")
        let now = Date()
        for (i, title) in milestones.enumerated() {
            let due = Timestamp.format(now.addingTimeInterval(Double(i + 1) * 90 * 86_400))
            try await cast.call(group.drafter, "MILESTONE.ADD", id, title, "DUE", due)
        }
        let finished = stage > .active ? milestones.count : done
        for n in 0..<finished { try await cast.call(group.drafter, "MILESTONE.DONE", id, String(n + 1)) }
        guard stage > .active else { return id }
        try await fire(group.chair, id, "report", "final report attached")
        guard stage > .reporting else { return id }
        try await fire(secretariat, id, "complete")
        return id
    }

    func projects() async throws {
        try await project(Self.sustainability, "Clean air monitoring network for Almaty and Bishkek",
                          summary: "Low-cost sensors in schools, with open readings for residents.", budget: 180_000, lead: "almaty", scale: "regional",
                          milestones: ["Sensors installed in 40 schools", "Open data portal live", "Joint winter smog plan"], done: 1, stage: .active)
        try await project(Self.innovation, "Smart street lighting pilot in Batumi",
                          summary: "LED lights dimmed by motion sensors along the seafront.", budget: 95_000, lead: "batumi", scale: "local",
                          milestones: ["Lights installed", "Energy savings measured"], stage: .completed)
        try await project(Self.gender, "Mentoring programme for women mayors",
                          summary: "Pairs newly elected women mayors with experienced peers.", budget: 60_000, lead: "tbilisi", scale: "network-wide",
                          milestones: ["Twelve pairs matched", "Exchange visits held"], stage: .reporting)
        try await project(Self.sustainability, "Urban tree inventory in Yerevan",
                          summary: "A public map of every street tree and its health.", budget: 45_000, lead: "yerevan", scale: "local", stage: .approval)
        try await project(Self.innovation, "Digital one-stop shop for small municipalities",
                          summary: "One portal for permits and certificates, shared by small towns.", budget: 220_000, lead: "astana", scale: "network-wide",
                          stage: .appraisal)
        try await project(Self.gender, "Women's safety audits in public parks",
                          summary: "Walks with residents to find unsafe spots in parks.", budget: 30_000, lead: "gyumri", scale: "local", stage: .proposal)
        let cancelled = try await project(Self.sustainability, "Waste-to-energy feasibility study",
                                          summary: "Whether a shared incinerator would serve three cities.", budget: 150_000, lead: "tashkent", scale: "regional",
                                          stage: .appraisal)
        try await fire(secretariat, cancelled, "cancel", "members prefer to fund recycling first")
    }

    // MARK: membership applications

    func application(_ applicant: String, kind: String, country: String, population: Int) async throws -> String {
        try await create(secretariat, "membership-application", "Membership application: \(applicant)", group: "executive-bureau", theme: nil,
                         fields: [("applicant", applicant), ("kind", kind), ("country", country), ("section", "Eurasia"), ("population", String(population))])
    }

    func forward(_ id: String) async throws {
        try await fire(secretariat, id, "check")
        try await cast.call(secretariat, "ITEM.REVISE", id, "Letter of intent signed by the mayor, with the council's decision to apply.\n")
        try await fire(secretariat, id, "forward", "documents and dues in order")
    }

    func applications() async throws {
        let osh = try await application("Ош (Osh)", kind: "city", country: "KG", population: 322_000)
        try await forward(osh)
        try await cast.call(secretariat, "REVIEW.ASSIGN", osh, "arman", "dilnoza", "batbayar")
        for reviewer in ["arman", "dilnoza", "batbayar"] { try await cast.call(reviewer, "REVIEW.VOTE", osh, "APPROVE") }
        try await fire(secretariat, osh, "admit", "welcome to the section")
        let shymkent = try await application("Шымкент (Shymkent)", kind: "city", country: "KZ", population: 1_200_000)
        try await forward(shymkent)
        try await cast.call(secretariat, "REVIEW.ASSIGN", shymkent, "arman", "nino", "batbayar")
        try await cast.call("nino", "REVIEW.VOTE", shymkent, "APPROVE")
        let kutaisi = try await application("ქუთაისი (Kutaisi)", kind: "city", country: "GE", population: 147_000)
        try await fire(secretariat, kutaisi, "check")
        _ = try await application("Хуҷанд (Khujand)", kind: "city", country: "TJ", population: 190_000)
        let consultancy = try await application("Eurasian Smart City Consulting LLC", kind: "association", country: "KZ", population: 0)
        try await fire(secretariat, consultancy, "decline", "not a local or regional government")
    }

    // MARK: urgent requests (demo timings)

    func urgentRequests() async throws {
        _ = try await create(secretariat, "urgent-request", "Flooding in Kakheti: request for emergency expertise", group: nil, theme: "sustainability",
                                     fields: [("summary", "Engineers to assess river defences")])
        let quake = try await create("rustam", "urgent-request", "Earthquake preparedness: peer exchange with Yerevan", group: nil, theme: "local-innovation")
        try await fire("rustam", quake, "acknowledge")
        let heat = try await create(secretariat, "urgent-request", "Heatwave: guidance on cooling centres", group: nil, theme: "sustainability")
        try await fire(secretariat, heat, "close", "guidance sent")
    }
}
