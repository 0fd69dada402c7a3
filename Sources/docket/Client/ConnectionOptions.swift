import ArgumentParser

/// Where the server is and who is asking: shared by every command that talks to it.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Server address (env DOCKET_SERVER; default 127.0.0.1:7433, or the one `docket login` stored).", valueName: "host:port"))
    var server: String?

    @Option(help: ArgumentHelp("User handle (env DOCKET_USER).", valueName: "handle"))
    var user: String?

    @Option(help: ArgumentHelp("Token of the user (env DOCKET_TOKEN). Prefer `docket login` or the environment: arguments show in `ps`.", valueName: "token"))
    var token: String?

    @Flag(help: "Connect with TLS (env DOCKET_TLS=1).")
    var tls = false

    @Option(help: ArgumentHelp("PEM file of the certificates to trust; implies --tls (env DOCKET_CACERT).", valueName: "file"))
    var cacert: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "Data directory of a local server, where its admin.token is looked for (env DOCKET_DATA_DIR; default .docket here or in a parent directory).",
        valueName: "dir"))
    var dataDirectory: String?
}
