/// A role a guard may name.
///
/// Global roles come from the user's directory entry, group roles from the working group
/// that owns the item, relative roles from the item itself.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
    /// Global: manages the directory and workflow definitions.
    case admin
    /// Global: the association's secretariat.
    case secretariat
    /// Working group: moves items on once the quorum holds.
    case chair
    /// Working group: writes papers and projects.
    case drafter
    /// Working group: votes on items under review.
    case reviewer
    /// Relative: the user who created the item.
    case author
    /// Relative: a reviewer assigned to the item.
    case assignee
    /// A user who represents a member government.
    case member
    /// Anyone with any role in the item's working group (for `visible-to`).
    case group

    public enum Kind: String, Sendable { case global, group, relative }

    public var kind: Kind {
        switch self {
        case .admin, .secretariat: .global
        case .chair, .drafter, .reviewer, .group: .group
        case .author, .assignee, .member: .relative
        }
    }

    /// Roles that can be granted to a user in a working group.
    public static let groupRoles: [Role] = [.chair, .drafter, .reviewer]
    /// Roles that can be granted to a user globally.
    public static let globalRoles: [Role] = [.admin, .secretariat]
}
