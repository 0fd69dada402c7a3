import DocketClient
import DocketWire

/// The demo's people, each with their own authenticated connection, opened on first use.
actor DemoCast {
    let settings: ConnectionSettings
    private var tokens: [String: String] = [:]
    private var clients: [String: DocketClient] = [:]

    init(settings: ConnectionSettings) {
        self.settings = settings
    }

    func add(_ handle: String, token: String) {
        tokens[handle] = token
    }

    /// Sends one command as `user`; error replies throw, naming who did what.
    @discardableResult
    func call(_ user: String, _ args: String...) async throws -> RESPValue {
        try await call(user, args)
    }

    @discardableResult
    func call(_ user: String, _ args: [String]) async throws -> RESPValue {
        let client = try await client(user)
        do {
            return try await client.call(args)
        } catch let error as ServerError {
            throw CLIFailure(CLIFailure.kind(ofServerCode: error.code), "seed: \(user): \(args.prefix(3).joined(separator: " ")): \(error.line)",
                             hint: "the demo expects the shipped workflows; check `docket workflow list`")
        }
    }

    private func client(_ user: String) async throws -> DocketClient {
        if let client = clients[user] { return client }
        guard let token = tokens[user] else {
            throw CLIFailure(.failure, "seed: no token for \(user)")
        }
        let client = try await DocketClient.connect(to: settings.address, tls: settings.tls)
        try await client.hello(3, user: user, token: token)
        clients[user] = client
        return client
    }

    func closeAll() async {
        for client in clients.values { await client.close() }
        clients = [:]
    }
}
