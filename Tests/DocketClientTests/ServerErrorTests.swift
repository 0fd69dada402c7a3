import DocketClient
import Testing

@Suite("ServerError")
struct ServerErrorTests {
    @Test("the first word is the code, the rest the message")
    func parsing() {
        let error = ServerError(line: "NOTFOUND item PP-9 not found")
        #expect(error.code == "NOTFOUND")
        #expect(error.message == "item PP-9 not found")
        #expect(error.line == "NOTFOUND item PP-9 not found")
        #expect(error.description == "NOTFOUND item PP-9 not found")
        #expect(error == ServerError(code: "NOTFOUND", message: "item PP-9 not found"))
    }

    @Test("single words and empty lines")
    func edges() {
        let bare = ServerError(line: "NOAUTH")
        #expect(bare.code == "NOAUTH")
        #expect(bare.message == "")
        #expect(bare.line == "NOAUTH")
        let empty = ServerError(line: "")
        #expect(empty.code == "ERR")
        #expect(empty.message == "")
    }

    @Test("client errors describe themselves")
    func clientErrors() {
        let address = ServerAddress(host: "db", port: 1)
        #expect(ClientError.connectionFailed(address, "refused").description == "could not connect to db:1: refused")
        #expect(ClientError.timeout.description.contains("timed out"))
        #expect(ClientError.protocolError("bad").description == "protocol error: bad")
        #expect(ClientError.connectionClosed.description == "connection closed")
    }
}
