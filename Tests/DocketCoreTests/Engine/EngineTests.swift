import DocketCore
import Foundation
import Testing

/// People of a working group on sustainability, and an item of the policy-paper workflow.
enum Cast {
    static let group = "sustainability-wg"
    static let ana = Actor(handle: "ana", groupRoles: [group: [.drafter]])            // the author
    static let bruno = Actor(handle: "bruno", groupRoles: [group: [.reviewer]])
    static let chen = Actor(handle: "chen", groupRoles: [group: [.reviewer]])
    static let dilnoza = Actor(handle: "dilnoza", groupRoles: [group: [.chair]])
    static let sec = Actor(handle: "sec", globalRoles: [.secretariat])
    static let outsider = Actor(handle: "omar", groupRoles: ["gender-equity-wg": [.chair]])
    static let almaty = Actor(handle: "aigerim", member: "almaty")
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    static func item(_ state: String, fields: [String: String] = [:], revisions: Int = 0, votes: [Vote] = [],
                     endorsements: [Endorsement] = [], milestones: [Milestone] = [], since: Date = t0) -> ItemSnapshot {
        ItemSnapshot(id: "PP-1", workflow: "policy-paper", workflowVersion: 1, title: "Green public procurement",
                     theme: "sustainability", group: group, state: state, version: 3, author: "ana",
                     createdAt: t0, stateSince: since, fields: fields, revisions: revisions, votes: votes,
                     endorsements: endorsements, milestones: milestones)
    }
}

@Suite("Engine")
struct EngineTests {
    let paper: WorkflowDefinition
    init() throws { paper = try Shipped.definition("policy-paper") }

    func decide(_ item: ItemSnapshot, _ actor: Actor, _ command: Command, at: Date = Cast.t0) -> Decision {
        Engine.decide(paper, item, actor: actor, command: command, now: at)
    }

    @Test("a refusal lists every failed check, not just the first")
    func everyFailedCheck() {
        let d = decide(Cast.item("drafting"), Cast.bruno, .fire(transition: "submit"))
        #expect(!d.allowed)
        #expect(Set(d.failed.map(\.name)) == ["role", "require:summary", "require:body"])
        #expect(d.checks.first?.name == "transition" && d.checks.first?.ok == true)
        #expect(d.refusal.contains("body has no revision yet"))
    }

    @Test("require: fields filled and a revision of the document")
    func require() {
        let ready = Cast.item("drafting", fields: ["summary": "Buying green across the section"], revisions: 1)
        let d = decide(ready, Cast.ana, .fire(transition: "submit", comment: "ready for review"))
        #expect(d.allowed, "\(d.failed)")
        #expect(d.event?.type == .transition && d.event?.from == "drafting" && d.event?.to == "peer-review")
        #expect(d.event?.comment == "ready for review")
        guard case let .transition(to, dueAt, timers)? = d.change else { Issue.record("no transition"); return }
        #expect(to == "peer-review")
        #expect(dueAt == Cast.t0.adding(WorkflowDuration("14d")!))
        #expect(timers.contains(TimerDraft(kind: .transition("expire"), fireAt: Cast.t0.adding(WorkflowDuration("21d")!))))
        #expect(timers.filter { if case .reminder = $0.kind { true } else { false } }.count == 2)
        let blank = decide(Cast.item("drafting", fields: ["summary": "   "], revisions: 1), Cast.ana, .fire(transition: "submit"))
        #expect(blank.failed.map(\.name) == ["require:summary"])
    }

    @Test("roles: global, group and relative")
    func roles() {
        let ready = Cast.item("drafting", fields: ["summary": "s"], revisions: 1)
        #expect(decide(ready, Cast.ana, .fire(transition: "submit")).allowed)          // author
        #expect(decide(ready, Cast.sec, .fire(transition: "withdraw")).allowed)        // global
        #expect(!decide(ready, Cast.sec, .fire(transition: "submit")).allowed)
        let otherDrafter = Actor(handle: "eva", groupRoles: [Cast.group: [.drafter]])
        #expect(decide(ready, otherDrafter, .fire(transition: "submit")).allowed)      // group
        let wrongGroup = Actor(handle: "eva", groupRoles: ["gender-equity-wg": [.drafter]])
        let d = decide(ready, wrongGroup, .fire(transition: "submit"))
        #expect(d.failed.map(\.name) == ["role"])
        #expect(d.failed.first?.detail.contains("needs one of: author, drafter") == true)
    }

    @Test("quorum counts approvals and rejections of the current round")
    func quorum() {
        let approvals = [Vote(reviewer: "bruno", verdict: .approve, revision: 1, at: Cast.t0),
                         Vote(reviewer: "chen", verdict: .approve, revision: 1, at: Cast.t0)]
        let one = decide(Cast.item("peer-review", revisions: 1, votes: Array(approvals.prefix(1))), Cast.dilnoza, .fire(transition: "accept"))
        #expect(one.failed.map(\.name) == ["quorum:approve"])
        #expect(one.failed.first?.detail == "1 approvals in this round, needs at least 2")
        #expect(decide(Cast.item("peer-review", revisions: 1, votes: approvals), Cast.dilnoza, .fire(transition: "accept")).allowed)
        let rejected = approvals + [Vote(reviewer: "eva", verdict: .reject, revision: 1, at: Cast.t0)]
        let r = decide(Cast.item("peer-review", revisions: 1, votes: rejected), Cast.dilnoza, .fire(transition: "accept"))
        #expect(r.failed.map(\.name) == ["quorum:reject"])
    }

    @Test("stale-on-revision: a vote cast before the latest revision no longer counts")
    func staleOnRevision() {
        let votes = [Vote(reviewer: "bruno", verdict: .approve, revision: 1, at: Cast.t0),
                     Vote(reviewer: "chen", verdict: .approve, revision: 2, at: Cast.t0)]
        let d = decide(Cast.item("peer-review", revisions: 2, votes: votes), Cast.dilnoza, .fire(transition: "accept"))
        #expect(d.failed.map(\.name) == ["quorum:approve"])
        #expect(d.failed.first?.detail.contains("1 stale vote not counted") == true)
    }

    @Test("not: separation of duties")
    func separation() {
        // The author may not vote on their own paper, even holding the reviewer role.
        let authorReviewer = Actor(handle: "ana", groupRoles: [Cast.group: [.drafter, .reviewer]])
        let vote = decide(Cast.item("peer-review", revisions: 1), authorReviewer, .vote(.approve))
        #expect(vote.failed.map(\.name) == ["separation"])
        #expect(decide(Cast.item("peer-review", revisions: 1), Cast.bruno, .vote(.approve)).allowed)
        // A chair who wrote the paper may not accept it.
        let authorChair = Actor(handle: "ana", groupRoles: [Cast.group: [.chair]])
        let votes = (1...2).map { Vote(reviewer: "r\($0)", verdict: .approve, revision: 1, at: Cast.t0) }
        let accept = decide(Cast.item("peer-review", revisions: 1, votes: votes), authorChair, .fire(transition: "accept"))
        #expect(accept.failed.map(\.name) == ["not"])
        // Assigning the author as a reviewer is refused too.
        #expect(decide(Cast.item("peer-review"), Cast.dilnoza, .assign(["ana"])).failed.map(\.name) == ["separation"])
        // Someone from another group is neither reviewer nor assignee.
        #expect(decide(Cast.item("peer-review"), Cast.outsider, .vote(.approve)).failed.map(\.name) == ["role"])
    }

    @Test("endorsements by member governments")
    func endorsements() {
        let endorsed = ["almaty", "bishkek", "kazan"].map { Endorsement(member: $0, by: "rep-\($0)", at: Cast.t0) }
        #expect(decide(Cast.item("endorsement", endorsements: Array(endorsed.prefix(2))), Cast.sec, .fire(transition: "adopt")).failed.map(\.name) == ["quorum:endorsements"])
        #expect(decide(Cast.item("endorsement", endorsements: endorsed), Cast.sec, .fire(transition: "adopt")).allowed)
        #expect(decide(Cast.item("endorsement"), Cast.almaty, .endorse(member: "almaty")).allowed)
        #expect(decide(Cast.item("endorsement"), Cast.almaty, .endorse(member: "kazan")).failed.map(\.name) == ["represents"])
        #expect(decide(Cast.item("endorsement", endorsements: endorsed), Cast.almaty, .endorse(member: "almaty")).failed.map(\.name) == ["once"])
        #expect(decide(Cast.item("peer-review"), Cast.almaty, .endorse(member: "almaty")).failed.map(\.name) == ["endorse"])
        #expect(decide(Cast.item("endorsement", endorsements: endorsed), Cast.almaty, .withdrawEndorsement(member: "almaty")).allowed)
    }

    @Test("timed transitions fire only by the scheduler, only when due")
    func timed() {
        let item = Cast.item("peer-review")
        let human = decide(item, Cast.sec, .fire(transition: "expire"), at: Cast.t0.adding(WorkflowDuration("30d")!))
        #expect(human.failed.map(\.name) == ["scheduler"])
        let early = decide(item, .system, .fire(transition: "expire"), at: Cast.t0.adding(WorkflowDuration("20d")!))
        #expect(early.failed.map(\.name) == ["time"])
        let due = decide(item, .system, .fire(transition: "expire"), at: Cast.t0.adding(WorkflowDuration("21d")!))
        #expect(due.allowed)
        #expect(due.event?.actor == "system")
    }

    @Test("milestones quorum: all done")
    func milestones() throws {
        let project = try Shipped.definition("thematic-project")
        let lead = Actor(handle: "ana", groupRoles: [Cast.group: [.chair]])
        var item = Cast.item("active")
        item.workflow = "thematic-project"
        func report() -> Decision { Engine.decide(project, item, actor: lead, command: .fire(transition: "report"), now: Cast.t0) }
        #expect(report().failed.first?.detail == "no milestones yet, needs all done")
        item.milestones = [Milestone(number: 1, title: "Baseline survey", doneAt: Cast.t0), Milestone(number: 2, title: "Pilot in Kazan")]
        #expect(report().failed.first?.detail == "1 of 2 milestones done, needs all")
        item.milestones[1].doneAt = Cast.t0
        #expect(report().allowed)
        let again = Engine.decide(project, item, actor: lead, command: .completeMilestone(2), now: Cast.t0)
        #expect(again.failed.map(\.name) == ["milestone"])
    }

    @Test("unknown transition names what exists")
    func unknownTransition() {
        let d = decide(Cast.item("drafting"), Cast.ana, .fire(transition: "publish"))
        #expect(d.failed.first?.detail == "state \"drafting\" has no transition \"publish\" (it has: submit, withdraw)")
        let final = decide(Cast.item("adopted"), Cast.sec, .fire(transition: "reopen"))
        #expect(final.failed.first?.detail.contains("(it is final)") == true)
    }

    @Test("fields are checked against their type")
    func fieldTypes() throws {
        let project = try Shipped.definition("thematic-project")
        var item = Cast.item("proposal")
        item.workflow = "thematic-project"
        func set(_ name: String, _ value: String) -> Decision {
            Engine.decide(project, item, actor: Cast.ana, command: .setField(name: name, value: value), now: Cast.t0)
        }
        #expect(set("budget", "120000").allowed)
        #expect(set("budget", "a lot").failed.first?.detail == "\"a lot\" is not a number")
        #expect(set("scale", "metropolitan").allowed)
        #expect(set("scale", "galactic").failed.first?.detail.contains("is not one of") == true)
        #expect(set("proposal", "text").failed.first?.detail.contains("is a document") == true)
        #expect(set("colour", "green").failed.first?.detail.contains("has no field \"colour\"") == true)
        #expect(Engine.decide(project, item, actor: Cast.bruno, command: .setField(name: "budget", value: "1"), now: Cast.t0).failed.map(\.name) == ["role"])
    }

    @Test("creation: who may create, and the initial state's due time")
    func create() {
        let new = NewItem(title: "Local innovation in Tashkent", group: Cast.group)
        let ok = Engine.decideCreate(paper, new, actor: Cast.ana, now: Cast.t0)
        #expect(ok.allowed)
        guard case let .created(state, dueAt, _, _)? = ok.change else { Issue.record("no creation"); return }
        #expect(state == "drafting" && dueAt == Cast.t0.adding(WorkflowDuration("30d")!))
        let refused = Engine.decideCreate(paper, NewItem(title: " ", group: Cast.group), actor: Cast.bruno, now: Cast.t0)
        #expect(Set(refused.failed.map(\.name)) == ["role", "title"])
    }

    @Test("visibility: drafts are seen by their group, the secretariat, the author and admins only")
    func visibility() {
        let draft = Cast.item("drafting")
        #expect(Engine.canSee(paper, draft, actor: Cast.bruno))
        #expect(Engine.canSee(paper, draft, actor: Cast.sec))
        #expect(!Engine.canSee(paper, draft, actor: Cast.outsider))
        #expect(!Engine.canSee(paper, draft, actor: Cast.almaty))
        #expect(Engine.canSee(paper, Cast.item("endorsement"), actor: Cast.almaty))
    }

    @Test("reminders only from the scheduler")
    func reminders() {
        #expect(decide(Cast.item("peer-review"), .system, .remind(index: 1)).allowed)
        #expect(decide(Cast.item("peer-review"), Cast.sec, .remind(index: 0)).failed.map(\.name) == ["scheduler"])
        #expect(decide(Cast.item("peer-review"), .system, .remind(index: 5)).failed.map(\.name) == ["reminder"])
    }
}
