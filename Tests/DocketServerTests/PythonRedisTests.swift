import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// The admin server driven by redis-py, the most used Redis client library, in RESP2 and RESP3.
@Suite("redis-py against the admin server", .timeLimit(.minutes(10)))
struct PythonRedisTests {
    /// Prints one `name=value` line per check; the test reads them back.
    static let script = #"""
        import sys, redis

        port, protocol, ana_token, admin_token, bad_item = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

        def client(user, token):
            return redis.Redis(host="127.0.0.1", port=port, username=user, password=token,
                               protocol=protocol, decode_responses=True, socket_timeout=20)

        def out(name, value):
            print(f"{name}={value!r}", flush=True)

        ana = client("ana", ana_token)
        out("ping", ana.execute_command("PING"))
        out("echo", ana.execute_command("ECHO", "hello"))
        me = ana.execute_command("WHOAMI")
        if protocol == 2:
            me = dict(zip(me[0::2], me[1::2]))
        out("whoami_user", me["user"])
        out("whoami_name", me["name"])
        out("whoami_roles", me["roles"])

        item = ana.execute_command("ITEM.CREATE", "policy-paper", "Rain gardens in Kazan", "THEME", "sustainability",
                                   "GROUP", "sustainability-wg", "FIELD", "summary", "Sponge city")
        if protocol == 2:
            item = dict(zip(item[0::2], item[1::2]))
            item["fields"] = dict(zip(item["fields"][0::2], item["fields"][1::2]))
        out("created_id", item["id"])
        out("created_state", item["state"])
        out("created_final", item["final"])
        got = ana.execute_command("ITEM.GET", item["id"])
        if protocol == 2:
            got = dict(zip(got[0::2], got[1::2]))
            got["fields"] = dict(zip(got["fields"][0::2], got["fields"][1::2]))
        out("get_title", got["title"])
        out("get_summary", got["fields"]["summary"])
        out("get_version", got["version"])
        out("get_transitions", got["transitions"])

        pipe = ana.pipeline(transaction=False)
        for n in range(99):
            pipe.execute_command("ECHO", str(n))
        pipe.execute_command("ITEM.COMMENT", item["id"], "from a pipeline")
        replies = pipe.execute()
        out("pipeline_count", len(replies))
        out("pipeline_in_order", replies[:99] == [str(n) for n in range(99)])
        comment = replies[99]
        if protocol == 2:
            comment = dict(zip(comment[0::2], comment[1::2]))
        out("pipeline_comment", (comment["type"], comment["version"]))

        try:
            ana.execute_command("ITEM.GET", bad_item)
            out("notfound", "no error")
        except redis.exceptions.ResponseError as e:
            out("notfound", type(e).__name__ + " " + str(e))
        try:
            ana.execute_command("ITEM.FIRE", item["id"], "submit")
            out("denied", "no error")
        except redis.exceptions.ResponseError as e:
            out("denied", type(e).__name__ + " " + str(e))
        try:
            ana.execute_command("USER.ADD", "mallory", "Mallory")
            out("noperm", "no error")
        except redis.exceptions.ResponseError as e:
            out("noperm", type(e).__name__ + " " + str(e))
        try:
            client("ana", "wrong-token").ping()
            out("wrongpass", "no error")
        except redis.exceptions.AuthenticationError as e:
            out("wrongpass", "AuthenticationError " + str(e))
        except redis.exceptions.ResponseError as e:
            out("wrongpass", type(e).__name__ + " " + str(e))

        if protocol == 3:
            hello = client("admin", admin_token).execute_command("HELLO", "3")
            out("hello_type", type(hello).__name__)
            out("hello", {k: hello[k] for k in ("server", "proto", "mode", "role", "modules")})
            out("hello_id_is_int", isinstance(hello["id"], int))
        """#

    @Test("PING, WHOAMI, ITEM.CREATE/GET, a 100-command pipeline and error classes", arguments: [2, 3])
    func redisPy(protocolVersion: Int) async throws {
        let python = try await Tool.pythonWithRedis()
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let ana = try await server.store.createToken(for: "ana")
            let output = try await withTemporaryDirectory { dir in
                let path = dir + "/docket_redis_py.py"
                try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
                return try await CLI.run(python, [path, String(server.port), String(protocolVersion), ana, server.adminToken, "PP-404"])
            }
            #expect(output.status == 0, "python exited \(output.status):\n\(output.stderr)")
            var values: [String: String] = [:]
            for line in output.stdout.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                values[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
            // redis-py turns +PONG into True.
            #expect(values["ping"] == "True")
            #expect(values["echo"] == "'hello'")
            #expect(values["whoami_user"] == "'ana'")
            #expect(values["whoami_name"] == "'Ana Petrova'")
            #expect(values["whoami_roles"] == "['sustainability-wg:drafter']")
            #expect(values["created_id"] == "'PP-1'")
            #expect(values["created_state"] == "'drafting'")
            // RESP3 booleans arrive as bool; RESP2 sends them as integers.
            #expect(values["created_final"] == (protocolVersion == 3 ? "False" : "0"))
            #expect(values["get_title"] == "'Rain gardens in Kazan'")
            #expect(values["get_summary"] == "'Sponge city'")
            #expect(values["get_version"] == "1")
            #expect(values["get_transitions"] == "['submit', 'withdraw']")
            #expect(values["pipeline_count"] == "100")
            #expect(values["pipeline_in_order"] == "True")
            #expect(values["pipeline_comment"] == "('comment', 2)")
            // The error class is the reply's first word; redis-py keeps it in the message...
            #expect(values["notfound"] == "'ResponseError NOTFOUND item PP-404 not found'")
            #expect(values["denied"]?.hasPrefix("'ResponseError DENIED ") == true, "\(values["denied"] ?? "nil")")
            #expect(values["denied"]?.contains("require:body") == true)
            // ...except for the classes it knows, which become exception types (NOPERM, WRONGPASS).
            #expect(values["noperm"] == "'NoPermissionError USER.ADD needs the admin role'")
            // redis-py maps WRONGPASS to AuthenticationError.
            #expect(values["wrongpass"]?.hasPrefix("'AuthenticationError ") == true, "\(values["wrongpass"] ?? "nil")")
            if protocolVersion == 3 {
                #expect(values["hello_type"] == "'dict'")
                #expect(values["hello"] == "{'server': 'docket', 'proto': 3, 'mode': 'standalone', 'role': 'master', 'modules': []}")
                #expect(values["hello_id_is_int"] == "True")
            } else {
                #expect(values["hello"] == nil)
            }
            // The pipeline's comment really landed.
            let history = try await server.withClient(user: "ana", token: ana) { c in try await c.call("ITEM.HISTORY", "PP-1").arrayValue ?? [] }
            #expect(history.compactMap { $0["type"]?.stringValue } == ["created", "comment"])
        }
    }
}
