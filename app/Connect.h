#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTextStream>

#include <optional>

namespace understudy::connect {

// `understudy connect claude-code|codex|opencode [--undo] [--url URL]` points an installed client at the proxy
// and back. The edits are textual splices: every byte the user wrote outside the changed values stays as it was,
// so comments, key order, unicode and CRLF line ends survive both ways.

enum class Client { ClaudeCode, Codex, OpenCode };

QList<Client> allClients();
std::optional<Client> clientNamed(const QString& name);  // "claude-code", "codex", "opencode"
QString clientName(Client client);                       // as the user types it
QString clientTitle(Client client);                      // "Claude Code"

// One value connect set, with what undo needs to put the text back exactly: the previous value's raw text, or,
// when there was none, the exact text that was inserted. Only locations and client settings (URLs, provider
// names), never credentials, so it can be kept in a state file: a value that carries the access token is kept
// there as its SHA-256 only (`secret`), which is enough for undo to recognise it.
struct Change {
    QStringList path;                  // JSON: member names from the root; TOML: table and key names
    QString value;                     // the value connect set; empty for a secret read back from the state file
    std::optional<QByteArray> previous;  // raw text of the value that was there before
    QByteArray inserted;               // when there was none: the text inserted (TOML line or table)
    std::optional<QByteArray> interior;  // JSON: the bytes between the braces of the object that was empty
    int createdDepth = -1;             // JSON: index in `path` of the first member that connect created
    bool secret = false;               // the value carries the access token
    QByteArray valueDigest;            // secret: hex SHA-256 of the value

    // Whether `found`, the value now in the file, is the one connect set.
    bool holds(const std::optional<QString>& found) const;
    // The text undo removes when `found` is the value of the line connect inserted.
    QByteArray insertedWith(const QString& found) const;

    QJsonObject toJson() const;
    static Change fromJson(const QJsonObject& json);
};

// The result of an edit. On error `text` is the input, unchanged, and `error` says what and where
// ("line 3, column 7: expected ',' or '}'").
struct Edit {
    QByteArray text;
    bool changed = false;
    QString error;
    QList<Change> changes;  // what changed, for undo; empty when nothing changed
};

// `url` is the proxy's base, e.g. "http://127.0.0.1:8790"; the OpenAI-style clients get "<url>/v1". `token`, when
// the proxy requires one, is sent in the header x-understudy-token, which each client can be told to add:
Edit connectClaudeCode(const QByteArray& text, const QString& url,   // env.ANTHROPIC_BASE_URL,
                       const QByteArray& token = {});                // env.ANTHROPIC_CUSTOM_HEADERS (one more line)
Edit connectCodex(const QByteArray& text, const QString& url,        // model_provider + [model_providers.understudy],
                  const QByteArray& token = {});                     // its http_headers.x-understudy-token
Edit connectOpenCode(const QByteArray& text, const QString& url,     // provider.anthropic.options.baseURL,
                     const QByteArray& token = {});                  // provider.anthropic.options.headers
Edit connectText(Client client, const QByteArray& text, const QString& url, const QByteArray& token = {});

// The same layout-preserving edits on any JSON document, e.g. Understudy's own config (`understudy token`): set
// the string at `path` (creating the objects on the way), or remove the member at `path` (unchanged when absent).
Edit setJsonString(const QByteArray& text, const QStringList& path, const QString& value);
Edit removeJsonMember(const QByteArray& text, const QStringList& path);

// Puts back what `changes` (from connect, in order) changed. Refuses, leaving the text as it is, when a value
// connect set was edited since: then the user's own edit wins.
Edit undoText(Client client, const QByteArray& text, const QList<Change>& changes);

// The files a client reads, existing ones first; the first is the one created when none exists.
// An empty list means the client's folder does not exist (the client does not look installed).
QStringList clientFiles(Client client, const QString& home);

// The proxy's base URL for a listen address: a wildcard address is reached on loopback.
QString proxyUrl(QString host, int port);

// Whether a client's settings point at the proxy at `url` now: its files are read, never written.
struct Connection {
    enum class State { Connected, NotConnected, NotInstalled, Unreadable };
    State state = State::NotInstalled;
    QString file;    // the settings file read (with several, the first that is not connected)
    QString reason;  // unless Connected: why, naming the file and the value or the parse error
};
// With a `token`, a client that does not send it is not connected.
Connection connectionState(Client client, const QString& home, const QString& url, const QByteArray& token = {});

// `understudy connect <client>` and `--undo` without a command line, for the tray: `message` is what the
// command prints, or its error.
struct Outcome {
    bool ok = false;
    QString message;
};
Outcome connectClient(Client client, const QString& home, const QString& url, const QByteArray& token = {});
Outcome undoClient(Client client);

// The clients connect has changed settings of (and not undone), from its state file.
QList<Client> connectedClients();


// Arguments are those after "connect". Returns the process exit code.
int runConnectCommand(const QStringList& arguments);
int runConnectCommand(const QStringList& arguments, QTextStream& out, QTextStream& err);

}  // namespace understudy::connect
