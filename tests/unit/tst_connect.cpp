// `understudy connect`: the text edits on copies of realistic settings files (comments, odd key order, other
// providers, unicode, CRLF), then the command through the real binary in a temporary HOME.
#include "Connect.h"

#include "support/KeptOutput.h"
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy::connect;

namespace {

const QString kUrl = QStringLiteral("http://127.0.0.1:8790");
// Fake secrets (tests/support/test-secrets.txt): the suite's secret scan fails if one shows up in any output.
const QByteArray kToken = "tok-fake-secret-connect-0001";
const QByteArray kNewToken = "tok-fake-secret-connect-0002";

QByteArray data(const QString& name) {
    QFile file(QStringLiteral(UNDERSTUDY_TEST_DATA "/connect/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("missing test data %s", qPrintable(name));
    return file.readAll();
}

// Changes through the state file's form; the token is never in it.
QList<Change> stored(const QList<Change>& changes) {
    QList<Change> out;
    for (const Change& c : changes) {
        const QByteArray json = QJsonDocument(c.toJson()).toJson();
        if (json.contains(kToken) || json.contains(kNewToken))
            qWarning("a change's state-file form holds the token (path %s)", qPrintable(c.path.join(u'.')));
        out.append(Change::fromJson(QJsonDocument::fromJson(json).object()));
    }
    return out;
}

bool holdsToken(const QList<Change>& changes) {
    for (const Change& c : changes) {
        if (QJsonDocument(c.toJson()).toJson().contains("tok-fake-secret"))
            return true;
    }
    return false;
}

// Connect, check the result is exactly `expected`, connect again (no change), undo (the original, byte for byte).
void roundTrip(Client client, const QByteArray& original, const QByteArray& expected, const QByteArray& token = {}) {
    const Edit connected = connectText(client, original, kUrl, token);
    QVERIFY2(connected.error.isEmpty(), qPrintable(connected.error));
    QVERIFY(connected.changed);
    QCOMPARE(connected.text, expected);
    QVERIFY(!connected.changes.isEmpty());
    QVERIFY(!holdsToken(connected.changes));

    const Edit again = connectText(client, connected.text, kUrl, token);
    QVERIFY2(again.error.isEmpty(), qPrintable(again.error));
    QVERIFY(!again.changed);
    QCOMPARE(again.text, connected.text);
    QVERIFY(again.changes.isEmpty());

    const Edit undone = undoText(client, connected.text, stored(connected.changes));
    QVERIFY2(undone.error.isEmpty(), qPrintable(undone.error));
    QCOMPARE(undone.text, original);
}

bool hasLoneLf(const QByteArray& text) {
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            return true;
    }
    return false;
}

}  // namespace

class TestConnect : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void claude_existingEnv_addsOneMemberAfterTheLast();
    void claude_noEnv_addsEnvObjectInTheFileStyle();
    void claude_crlfTabs_replacesOnlyTheValue();
    void claude_compactEmptyEnv_fillsItAndUndoRestoresTheBraces();
    void claude_empty_createsMinimal();
    void claude_broken_untouchedWithPosition();
    void claude_envNotAnObject_refused();
    void claude_secondUrl_undoStillRestoresTheOriginal();
    void claude_userEditedValue_undoRefuses();

    void codex_otherProvidersAndCommentedLine();
    void codex_existingUnderstudyTableAndActiveProvider();
    void codex_crlf_keepsLineEnds();
    void codex_empty_createsTable();
    void codex_broken_untouchedWithPosition();
    void codex_dottedDefinition_refused();

    void opencode_jsoncCommentsAndTrailingCommas();

    void token_claude_customHeaderLine_keepsTheUsersHeaders();
    void token_codex_dottedHeaderKey();
    void token_opencode_optionsHeaders();
    void token_newToken_undoStillRestoresTheOriginal();
    void token_editedByUser_undoRefusesWithoutShowingIt();
    void token_codexInlineHeaders_refused();
    void token_stateSaysNotConnectedWithoutIt();
    void token_connectedClientsGetThrough_othersGet401();
    void cli_tokenRequired_writtenIntoClients_neverIntoStateOrOutput();
    void cli_tokenUnreadable_clientUntouched();
    void opencode_minimal_createsProviderChain();

    void state_notInstalled_namesTheFolder();
    void state_claude_followsTheFile();
    void state_codex_namesTheActiveProvider();
    void state_opencode_connectedOnlyWhenEveryFileIs();
    void connectClient_outcomesForTheTray();

    void cli_connectTwice_undo_restoresBytes();
    void cli_brokenFile_exit1_untouched();
    void cli_notInstalled_reported();
};

void TestConnect::claude_existingEnv_addsOneMemberAfterTheLast() {
    const QByteArray original = data(QStringLiteral("claude-settings.json"));
    QByteArray expected = original;
    expected.replace("\"GREETING\": \"Grüß dich, 世界 🚀\"\n",
                     "\"GREETING\": \"Grüß dich, 世界 🚀\",\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8790\"\n");
    QVERIFY(expected != original);
    roundTrip(Client::ClaudeCode, original, expected);
}

void TestConnect::claude_noEnv_addsEnvObjectInTheFileStyle() {
    const QByteArray original = data(QStringLiteral("claude-settings-noenv.json"));
    QByteArray expected = original;
    expected.replace("\"apiKeyHelper\": \"~/bin/get-key.sh\"\n",
                     "\"apiKeyHelper\": \"~/bin/get-key.sh\",\n    \"env\": {\n        \"ANTHROPIC_BASE_URL\": "
                     "\"http://127.0.0.1:8790\"\n    }\n");
    roundTrip(Client::ClaudeCode, original, expected);
}

void TestConnect::claude_crlfTabs_replacesOnlyTheValue() {
    const QByteArray original = data(QStringLiteral("claude-settings-crlf.json"));
    QByteArray expected = original;
    expected.replace("https://gateway.example.com/anthropic", "http://127.0.0.1:8790");
    roundTrip(Client::ClaudeCode, original, expected);
    const Edit edit = connectClaudeCode(original, kUrl);
    QCOMPARE(edit.changes.size(), 1);
    QCOMPARE(*edit.changes.first().previous, QByteArray("\"https://gateway.example.com/anthropic\""));
    QVERIFY(!hasLoneLf(edit.text));
    QVERIFY(!QJsonDocument(edit.changes.first().toJson()).toJson().contains("tok-not-real"));  // no secret in the state
}

void TestConnect::claude_compactEmptyEnv_fillsItAndUndoRestoresTheBraces() {
    roundTrip(Client::ClaudeCode, data(QStringLiteral("claude-settings-compact.json")),
              "{\"env\":{\n  \"ANTHROPIC_BASE_URL\":\"http://127.0.0.1:8790\"\n},\"model\":\"haiku\"}");
    roundTrip(Client::ClaudeCode, "{ \"env\": { } }", "{ \"env\": {\n  \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8790\"\n} }");
}

void TestConnect::claude_empty_createsMinimal() {
    roundTrip(Client::ClaudeCode, "{}\n", "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8790\"\n  }\n}\n");
}

void TestConnect::claude_broken_untouchedWithPosition() {
    const QByteArray original = data(QStringLiteral("claude-settings-broken.json"));
    const Edit edit = connectClaudeCode(original, kUrl);
    QCOMPARE(edit.text, original);
    QVERIFY(!edit.changed);
    QCOMPARE(edit.error, QStringLiteral("line 5, column 3: expected ',' or '}'"));
    QVERIFY(connectClaudeCode("[1, 2]", kUrl).error.contains(QStringLiteral("not a JSON object")));
    QVERIFY(connectClaudeCode("{\"a\": \"x", kUrl).error.contains(QStringLiteral("unterminated string")));
}

void TestConnect::claude_envNotAnObject_refused() {
    const Edit edit = connectClaudeCode("{\"env\": \"oops\"}", kUrl);
    QCOMPARE(edit.text, QByteArray("{\"env\": \"oops\"}"));
    QVERIFY2(edit.error.contains(QStringLiteral("\"env\" is not an object")), qPrintable(edit.error));
}

void TestConnect::claude_secondUrl_undoStillRestoresTheOriginal() {
    // The file layer merges a second connect into the first record, keeping the first previous value.
    const QByteArray original = data(QStringLiteral("claude-settings.json"));
    const Edit first = connectClaudeCode(original, kUrl);
    const Edit second = connectClaudeCode(first.text, QStringLiteral("http://127.0.0.1:9000"));
    QVERIFY(second.changed);
    Change merged = first.changes.first();
    merged.value = second.changes.first().value;
    QCOMPARE(undoText(Client::ClaudeCode, second.text, {merged}).text, original);
}

void TestConnect::claude_userEditedValue_undoRefuses() {
    const Edit connected = connectClaudeCode(data(QStringLiteral("claude-settings.json")), kUrl);
    QByteArray edited = connected.text;
    edited.replace("http://127.0.0.1:8790", "http://my.own.proxy");
    const Edit undone = undoText(Client::ClaudeCode, edited, connected.changes);
    QCOMPARE(undone.text, edited);
    QVERIFY2(undone.error.contains(QStringLiteral("env.ANTHROPIC_BASE_URL was changed since connect")),
             qPrintable(undone.error));
}

void TestConnect::codex_otherProvidersAndCommentedLine() {
    const QByteArray original = data(QStringLiteral("codex-config.toml"));
    QByteArray expected = original;
    expected.replace("# model_provider = \"openai\"\n", "# model_provider = \"openai\"\nmodel_provider = \"understudy\"\n");
    expected += "\n[model_providers.understudy]\nname = \"Understudy\"\nbase_url = \"http://127.0.0.1:8790/v1\"\n"
                "wire_api = \"responses\"\n";
    roundTrip(Client::Codex, original, expected);
    QVERIFY(expected.contains("[profiles.fast]\nmodel = \"gpt-5-mini\"\nmodel_provider = \"azure\"\n"));  // untouched
}

void TestConnect::codex_existingUnderstudyTableAndActiveProvider() {
    const QByteArray original = data(QStringLiteral("codex-config-active.toml"));
    QByteArray expected = original;
    expected.replace("model_provider = \"azure\"   # work account", "model_provider = \"understudy\"   # work account");
    expected.replace("name = \"mine\"", "name = \"Understudy\"");
    expected.replace("http://127.0.0.1:9999/v1", "http://127.0.0.1:8790/v1");
    expected.replace("env_key = \"OPENAI_API_KEY\"\n", "env_key = \"OPENAI_API_KEY\"\nwire_api = \"responses\"\n");
    roundTrip(Client::Codex, original, expected);
}

void TestConnect::codex_crlf_keepsLineEnds() {
    const QByteArray original = data(QStringLiteral("codex-config-crlf.toml"));
    const QByteArray expected = "model = \"gpt-5\"\r\nmodel_provider = \"understudy\"\r\n\r\n[tui]\r\nnotifications = true\r\n"
                                "\r\n[model_providers.understudy]\r\nname = \"Understudy\"\r\n"
                                "base_url = \"http://127.0.0.1:8790/v1\"\r\nwire_api = \"responses\"\r\n";
    roundTrip(Client::Codex, original, expected);
    QVERIFY(!hasLoneLf(expected));
}

void TestConnect::codex_empty_createsTable() {
    roundTrip(Client::Codex, QByteArray(),
              "model_provider = \"understudy\"\n\n[model_providers.understudy]\nname = \"Understudy\"\n"
              "base_url = \"http://127.0.0.1:8790/v1\"\nwire_api = \"responses\"\n");
    roundTrip(Client::Codex, "model = \"o3\"",  // no final newline
              "model = \"o3\"\nmodel_provider = \"understudy\"\n\n[model_providers.understudy]\nname = \"Understudy\"\n"
              "base_url = \"http://127.0.0.1:8790/v1\"\nwire_api = \"responses\"\n");
}

void TestConnect::codex_broken_untouchedWithPosition() {
    const QByteArray original = data(QStringLiteral("codex-config-broken.toml"));
    const Edit edit = connectCodex(original, kUrl);
    QCOMPARE(edit.text, original);
    QVERIFY(!edit.changed);
    QCOMPARE(edit.error, QStringLiteral("line 3, column 8: unterminated string"));
    QVERIFY(connectCodex("model = \n", kUrl).error.contains(QStringLiteral("expected a value")));
    QVERIFY(connectCodex("[x\n", kUrl).error.contains(QStringLiteral("line 1")));
    QVERIFY(connectCodex("a = [1, 2\n", kUrl).error.contains(QStringLiteral("expected ',' or ']'")));
}

void TestConnect::codex_dottedDefinition_refused() {
    const QByteArray text = "model_providers.understudy.base_url = \"http://x/v1\"\n";
    const Edit edit = connectCodex(text, kUrl);
    QCOMPARE(edit.text, text);
    QVERIFY2(edit.error.startsWith(QStringLiteral("line 1, column 1: the understudy provider is defined here")),
             qPrintable(edit.error));
}

void TestConnect::opencode_jsoncCommentsAndTrailingCommas() {
    const QByteArray original = data(QStringLiteral("opencode.jsonc"));
    QByteArray expected = original;
    // The new member follows the last one's value, so the user's trailing comma now trails it.
    expected.replace("\"Sonnet ✨\" } },\n", "\"Sonnet ✨\" } },\n      \"options\": {\n"
                                           "        \"baseURL\": \"http://127.0.0.1:8790/v1\"\n      },\n");
    QVERIFY(expected != original);
    roundTrip(Client::OpenCode, original, expected);
}

void TestConnect::opencode_minimal_createsProviderChain() {
    const QByteArray original = data(QStringLiteral("opencode-minimal.json"));
    const QByteArray expected = "{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  \"provider\": {\n"
                                "    \"anthropic\": {\n      \"options\": {\n        \"baseURL\": \"http://127.0.0.1:8790/v1\"\n"
                                "      }\n    }\n  }\n}\n";
    roundTrip(Client::OpenCode, original, expected);
    QVERIFY(!QJsonDocument::fromJson(expected).isNull());
}

// --- the real binary -----------------------------------------------------------------------------------------

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runCli(const QTemporaryDir& dir, const QStringList& args, const QList<QPair<QString, QByteArray>>& extraEnv = {}) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : extraEnv)
        env.insert(name, QString::fromUtf8(value));
    env.insert(QStringLiteral("HOME"), dir.filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("home/.config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dir.filePath(QStringLiteral("data")));
    env.remove(QStringLiteral("CODEX_HOME"));
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(UNDERSTUDY_BINARY), QStringList{QStringLiteral("connect")} + args);
    Run r;
    if (!process.waitForFinished(15000)) {
        process.kill();
        process.waitForFinished();
        return r;
    }
    r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    r.out = QString::fromUtf8(process.readAllStandardOutput());
    r.err = QString::fromUtf8(process.readAllStandardError());
    understudy::test::keepOutput(QStringLiteral("connect-cli-output"), (r.out + r.err).toUtf8());
    return r;
}

void put(const QString& path, const QByteArray& content) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

QByteArray contentOf(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<missing>");
}

// The three clients' settings files under a home folder, each written with its fixture: what connect edits and
// undo must give back byte for byte.
struct ClientFiles {
    QString claude, codex, opencode;

    explicit ClientFiles(const QString& home)
        : claude(home + QStringLiteral("/.claude/settings.json")),
          codex(home + QStringLiteral("/.codex/config.toml")),
          opencode(home + QStringLiteral("/.config/opencode/opencode.jsonc")) {
        put(claude, data(QStringLiteral("claude-settings.json")));
        put(codex, data(QStringLiteral("codex-config.toml")));
        put(opencode, data(QStringLiteral("opencode.jsonc")));
    }

    void verifyRestored() const {
        QCOMPARE(contentOf(claude), data(QStringLiteral("claude-settings.json")));
        QCOMPARE(contentOf(codex), data(QStringLiteral("codex-config.toml")));
        QCOMPARE(contentOf(opencode), data(QStringLiteral("opencode.jsonc")));
    }
};

}  // namespace

void TestConnect::cli_connectTwice_undo_restoresBytes() {
    QTemporaryDir dir;
    const ClientFiles files(dir.filePath(QStringLiteral("home")));
    const QString& claude = files.claude;
    const QString& codex = files.codex;
    const QString& opencode = files.opencode;

    for (const QString& client : {QStringLiteral("claude-code"), QStringLiteral("codex"), QStringLiteral("opencode")}) {
        const Run first = runCli(dir, {client, QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:8799/")});
        QVERIFY2(first.exitCode == 0, qPrintable(first.err));
        QVERIFY2(first.out.contains(QStringLiteral("now points at http://127.0.0.1:8799 (backup: ")), qPrintable(first.out));
        const Run second = runCli(dir, {client, QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:8799")});
        QCOMPARE(second.exitCode, 0);
        QVERIFY2(second.out.contains(QStringLiteral("already points at")), qPrintable(second.out));
    }
    QVERIFY(contentOf(claude).contains("\"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8799\""));
    QVERIFY(contentOf(codex).contains("base_url = \"http://127.0.0.1:8799/v1\""));
    QVERIFY(contentOf(opencode).contains("\"baseURL\": \"http://127.0.0.1:8799/v1\""));
    QCOMPARE(QDir(dir.filePath(QStringLiteral("home/.claude"))).entryList({QStringLiteral("settings.json.understudy-backup-*")}).size(), 1);

    const QByteArray state = contentOf(dir.filePath(QStringLiteral("data/understudy/connect-state.json")));
    QVERIFY2(state.contains("ANTHROPIC_BASE_URL"), state.constData());
    QVERIFY(!state.contains("sk-ant-api03"));  // the key in settings.json never reaches the state file

    for (const QString& client : {QStringLiteral("claude-code"), QStringLiteral("codex"), QStringLiteral("opencode")}) {
        const Run undo = runCli(dir, {client, QStringLiteral("--undo")});
        QVERIFY2(undo.exitCode == 0, qPrintable(undo.err));
        QVERIFY2(undo.out.contains(QStringLiteral("restored")), qPrintable(undo.out));
        const Run again = runCli(dir, {client, QStringLiteral("--undo")});
        QVERIFY2(again.out.contains(QStringLiteral("nothing to undo")), qPrintable(again.out));
    }
    files.verifyRestored();
}

void TestConnect::cli_brokenFile_exit1_untouched() {
    QTemporaryDir dir;
    const QString claude = dir.filePath(QStringLiteral("home/.claude/settings.json"));
    put(claude, data(QStringLiteral("claude-settings-broken.json")));
    const Run r = runCli(dir, {QStringLiteral("claude-code")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(claude + QStringLiteral(": line 5, column 3: expected ',' or '}'")), qPrintable(r.err));
    QVERIFY(r.err.contains(QStringLiteral("left untouched")));
    QCOMPARE(contentOf(claude), data(QStringLiteral("claude-settings-broken.json")));
    QCOMPARE(QDir(dir.filePath(QStringLiteral("home/.claude"))).entryList(QDir::Files).size(), 1);  // no backup either
}

void TestConnect::cli_notInstalled_reported() {
    QTemporaryDir dir;
    QDir().mkpath(dir.filePath(QStringLiteral("home")));
    const Run r = runCli(dir, {QStringLiteral("codex")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(QStringLiteral("Codex does not look installed")), qPrintable(r.err));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("home/.codex"))));

    // Installed but no settings file yet: created minimal, and --undo removes it again.
    QDir().mkpath(dir.filePath(QStringLiteral("home/.claude")));
    const QString claude = dir.filePath(QStringLiteral("home/.claude/settings.json"));
    QCOMPARE(runCli(dir, {QStringLiteral("claude-code")}).exitCode, 0);
    QCOMPARE(contentOf(claude), QByteArray("{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8790\"\n  }\n}\n"));
    QCOMPARE(runCli(dir, {QStringLiteral("claude-code"), QStringLiteral("--undo")}).exitCode, 0);
    QVERIFY(!QFile::exists(claude));

    QCOMPARE(runCli(dir, {QStringLiteral("cursor")}).exitCode, 2);
}

// `understudy connect` reads the token the config requires and writes it into the client; the state file and
// what the command prints never hold it.
void TestConnect::cli_tokenRequired_writtenIntoClients_neverIntoStateOrOutput() {
    QTemporaryDir dir;
    const QString configPath = dir.filePath(QStringLiteral("understudy.json"));
    put(configPath, R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8797, "accessToken": "env:UNDERSTUDY_TEST_CLI_TOKEN"},
        "providers": {"anthropic": {"type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client"}},
        "chains": {"main": {"steps": [{"provider": "anthropic"}]}}, "activeChain": "main"})");
    const ClientFiles files(dir.filePath(QStringLiteral("home")));
    const QString& claude = files.claude;
    const QString& codex = files.codex;
    const QString& opencode = files.opencode;
    const QStringList clients{QStringLiteral("claude-code"), QStringLiteral("codex"), QStringLiteral("opencode")};
    QString printed;
    for (const QString& client : clients) {
        const Run r = runCli(dir, {client, QStringLiteral("--config"), configPath}, {{"UNDERSTUDY_TEST_CLI_TOKEN", kToken}});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("now points at http://127.0.0.1:8797 with the access token")), qPrintable(r.out));
        printed += r.out + r.err;
    }
    QVERIFY(contentOf(claude).contains("\"ANTHROPIC_CUSTOM_HEADERS\": \"x-understudy-token: " + kToken + "\""));
    QVERIFY(contentOf(codex).contains("http_headers.x-understudy-token = \"" + kToken + "\""));
    QVERIFY(contentOf(opencode).contains("\"x-understudy-token\": \"" + kToken + "\""));
    QVERIFY(!printed.contains(QString::fromUtf8(kToken)));
    QVERIFY(!contentOf(dir.filePath(QStringLiteral("data/understudy/connect-state.json"))).contains(kToken));

    for (const QString& client : clients) {
        const Run r = runCli(dir, {client, QStringLiteral("--undo")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(!(r.out + r.err).contains(QString::fromUtf8(kToken)));
    }
    files.verifyRestored();
}

void TestConnect::cli_tokenUnreadable_clientUntouched() {
    QTemporaryDir dir;
    const QString configPath = dir.filePath(QStringLiteral("understudy.json"));
    put(configPath, R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8797, "accessToken": "env:UNDERSTUDY_TEST_UNSET_TOKEN"},
        "providers": {"anthropic": {"type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client"}},
        "chains": {"main": {"steps": [{"provider": "anthropic"}]}}, "activeChain": "main"})");
    const QString claude = dir.filePath(QStringLiteral("home/.claude/settings.json"));
    put(claude, data(QStringLiteral("claude-settings.json")));
    const Run r = runCli(dir, {QStringLiteral("claude-code"), QStringLiteral("--config"), configPath});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(QStringLiteral("listen: accessToken refers to environment variable UNDERSTUDY_TEST_UNSET_TOKEN, "
                                           "which is not set")),
             qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("Claude Code was not changed")), qPrintable(r.err));
    QCOMPARE(contentOf(claude), data(QStringLiteral("claude-settings.json")));
}

// --- connection state and the tray's calls, in this process against a temporary HOME ----------------------------

namespace {

using State = Connection::State;

// A temporary HOME, with the variables that would move a client's settings elsewhere pointing into it, and
// Understudy's data folder (connect-state.json) inside it too.
struct Home {
    QTemporaryDir dir;
    QString path() const { return dir.filePath(QStringLiteral("home")); }
    QString file(const QString& relative) const { return path() + u'/' + relative; }
    Home() {
        QDir().mkpath(path());
        qputenv("XDG_CONFIG_HOME", file(QStringLiteral(".config")).toUtf8());
        qputenv("XDG_DATA_HOME", dir.filePath(QStringLiteral("data")).toUtf8());
        qunsetenv("CODEX_HOME");
    }
};

const char* stateName(State state) {
    switch (state) {
    case State::Connected: return "Connected";
    case State::NotConnected: return "NotConnected";
    case State::NotInstalled: return "NotInstalled";
    case State::Unreadable: return "Unreadable";
    }
    return "?";
}

bool is(const Connection& c, State state) {
    if (c.state == state)
        return true;
    qWarning("state %s, expected %s (%s)", stateName(c.state), stateName(state), qPrintable(c.reason));
    return false;
}

}  // namespace


// --- the access token ---------------------------------------------------------------------------------------

void TestConnect::token_claude_customHeaderLine_keepsTheUsersHeaders() {
    roundTrip(Client::ClaudeCode, "{}\n",
              "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8790\",\n    \"ANTHROPIC_CUSTOM_HEADERS\": "
              "\"x-understudy-token: " + kToken + "\"\n  }\n}\n",
              kToken);
    // The user's own headers stay, one a line, and undo gives back their exact text.
    const QByteArray own = "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8790\",\n"
                           "    \"ANTHROPIC_CUSTOM_HEADERS\": \"X-Team: blue\\nX-Trace:  on\"\n  }\n}\n";
    QByteArray expected = own;
    expected.replace("X-Trace:  on\"", "X-Trace:  on\\nx-understudy-token: " + kToken + "\"");
    roundTrip(Client::ClaudeCode, own, expected, kToken);
    roundTrip(Client::ClaudeCode, data(QStringLiteral("claude-settings-crlf.json")),
              connectClaudeCode(data(QStringLiteral("claude-settings-crlf.json")), kUrl, kToken).text, kToken);
    QVERIFY(!hasLoneLf(connectClaudeCode(data(QStringLiteral("claude-settings-crlf.json")), kUrl, kToken).text));
}

void TestConnect::token_codex_dottedHeaderKey() {
    const QByteArray original = data(QStringLiteral("codex-config.toml"));
    const Edit edit = connectCodex(original, kUrl, kToken);
    QVERIFY2(edit.error.isEmpty(), qPrintable(edit.error));
    QVERIFY2(edit.text.contains("[model_providers.understudy]\nname = \"Understudy\"\nbase_url = \"http://127.0.0.1:8790/v1\"\n"
                                "wire_api = \"responses\"\nhttp_headers.x-understudy-token = \"" + kToken + "\"\n"),
             edit.text.constData());
    roundTrip(Client::Codex, original, edit.text, kToken);
    // A table the user already had gets the line after its last key.
    const QByteArray active = data(QStringLiteral("codex-config-active.toml"));
    roundTrip(Client::Codex, active, connectCodex(active, kUrl, kToken).text, kToken);
    QVERIFY(connectCodex(active, kUrl, kToken).text.contains("http_headers.x-understudy-token = \"" + kToken + "\""));
    roundTrip(Client::Codex, QByteArray(), connectCodex(QByteArray(), kUrl, kToken).text, kToken);
}

void TestConnect::token_opencode_optionsHeaders() {
    const QByteArray original = data(QStringLiteral("opencode-minimal.json"));
    const Edit edit = connectOpenCode(original, kUrl, kToken);
    QVERIFY2(edit.error.isEmpty(), qPrintable(edit.error));
    const QJsonObject options = QJsonDocument::fromJson(edit.text).object()["provider"].toObject()["anthropic"]
                                    .toObject()["options"].toObject();
    QCOMPARE(options["baseURL"].toString(), kUrl + QStringLiteral("/v1"));
    QCOMPARE(options["headers"].toObject()["x-understudy-token"].toString().toUtf8(), kToken);
    roundTrip(Client::OpenCode, original, edit.text, kToken);
    const QByteArray jsonc = data(QStringLiteral("opencode.jsonc"));
    roundTrip(Client::OpenCode, jsonc, connectOpenCode(jsonc, kUrl, kToken).text, kToken);
}

// A new token (enabled again with another one) replaces connect's own value; undo goes back to the user's file.
void TestConnect::token_newToken_undoStillRestoresTheOriginal() {
    const Home home;
    const ClientFiles files(home.path());
    const QString& claude = files.claude;
    const QString& codex = files.codex;
    const QString& opencode = files.opencode;
    for (const Client client : allClients()) {
        QVERIFY(connectClient(client, home.path(), kUrl).ok);  // first without a token
        const Outcome first = connectClient(client, home.path(), kUrl, kToken);
        QVERIFY2(first.ok && first.message.contains(QStringLiteral("with the access token")), qPrintable(first.message));
        QVERIFY(connectClient(client, home.path(), kUrl, kNewToken).ok);
        QVERIFY(is(connectionState(client, home.path(), kUrl, kNewToken), State::Connected));
        QVERIFY(is(connectionState(client, home.path(), kUrl, kToken), State::NotConnected));
    }
    QVERIFY(contentOf(claude).contains(kNewToken) && !contentOf(claude).contains(kToken));
    QVERIFY(contentOf(codex).contains(kNewToken) && !contentOf(codex).contains(kToken));
    QVERIFY(contentOf(opencode).contains(kNewToken) && !contentOf(opencode).contains(kToken));
    const QByteArray state =
        contentOf(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/connect-state.json"));
    QVERIFY2(state.contains("valueSha256"), state.constData());
    QVERIFY(!state.contains("tok-fake-secret"));
    for (const Client client : allClients()) {
        const Outcome undone = undoClient(client);
        QVERIFY2(undone.ok, qPrintable(undone.message));
    }
    files.verifyRestored();
}

void TestConnect::token_editedByUser_undoRefusesWithoutShowingIt() {
    for (const Client client : allClients()) {
        const QByteArray original = client == Client::Codex ? data(QStringLiteral("codex-config.toml"))
                                                            : data(QStringLiteral("opencode-minimal.json"));
        const Edit connected = connectText(client, original, kUrl, kToken);
        QByteArray edited = connected.text;
        edited.replace(kToken, "tok-fake-secret-typed-by-the-user");
        const Edit undone = undoText(client, edited, stored(connected.changes));
        QCOMPARE(undone.text, edited);
        QVERIFY2(undone.error.contains(QStringLiteral("was changed since connect set it to the access token")),
                 qPrintable(undone.error));
        QVERIFY(!undone.error.contains(QStringLiteral("tok-fake-secret")));
    }
}

void TestConnect::token_codexInlineHeaders_refused() {
    const QByteArray original = "[model_providers.understudy]\nname = \"Understudy\"\nhttp_headers = { \"X-Team\" = \"blue\" }\n";
    const Edit edit = connectCodex(original, kUrl, kToken);
    QCOMPARE(edit.text, original);
    QVERIFY2(edit.error.startsWith(QStringLiteral("line 3, column 1: model_providers.understudy.http_headers")),
             qPrintable(edit.error));
    QVERIFY(!edit.error.contains(kToken));
    QVERIFY(connectCodex(original, kUrl).error.isEmpty());  // without a token there is nothing to add to it
}

void TestConnect::token_stateSaysNotConnectedWithoutIt() {
    const Home home;
    const QString settings = home.file(QStringLiteral(".claude/settings.json"));
    put(settings, "{}\n");
    QVERIFY(connectClient(Client::ClaudeCode, home.path(), kUrl).ok);
    QVERIFY(is(connectionState(Client::ClaudeCode, home.path(), kUrl), State::Connected));
    const Connection c = connectionState(Client::ClaudeCode, home.path(), kUrl, kToken);
    QVERIFY(is(c, State::NotConnected));
    QCOMPARE(c.reason, settings + QStringLiteral(" does not send the access token this Understudy requires"));
    QVERIFY(connectClient(Client::ClaudeCode, home.path(), kUrl, kToken).ok);
    QVERIFY(is(connectionState(Client::ClaudeCode, home.path(), kUrl, kToken), State::Connected));
    // Turned off again: the token a client still sends does no harm, so it is still connected.
    QVERIFY(is(connectionState(Client::ClaudeCode, home.path(), kUrl), State::Connected));
}

namespace {

// Where a connected client sends its requests and the headers it adds, read from its settings the way the
// client reads them.
struct ClientRequest {
    QString baseUrl;
    understudy::http::Headers headers;
};

ClientRequest requestOf(Client client, const QByteArray& settings) {
    ClientRequest r;
    if (client == Client::Codex) {
        const QRegularExpression baseUrl(QStringLiteral("^base_url = \"([^\"]*)\""), QRegularExpression::MultilineOption);
        const QRegularExpression header(QStringLiteral("^http_headers\\.([a-z-]+) = \"([^\"]*)\""),
                                        QRegularExpression::MultilineOption);
        r.baseUrl = baseUrl.match(QString::fromUtf8(settings)).captured(1);
        for (auto it = header.globalMatch(QString::fromUtf8(settings)); it.hasNext();) {
            const auto m = it.next();
            r.headers.set(m.captured(1).toUtf8(), m.captured(2).toUtf8());
        }
        return r;
    }
    const QJsonObject root = QJsonDocument::fromJson(settings).object();
    if (client == Client::ClaudeCode) {
        const QJsonObject env = root["env"].toObject();
        r.baseUrl = env["ANTHROPIC_BASE_URL"].toString();
        for (const QString& line : env["ANTHROPIC_CUSTOM_HEADERS"].toString().split(u'\n', Qt::SkipEmptyParts))
            r.headers.set(line.section(u':', 0, 0).trimmed().toUtf8(), line.section(u':', 1).trimmed().toUtf8());
        return r;
    }
    const QJsonObject options = root["provider"].toObject()["anthropic"].toObject()["options"].toObject();
    r.baseUrl = options["baseURL"].toString();
    const QJsonObject headers = options["headers"].toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it)
        r.headers.set(it.key().toUtf8(), it.value().toString().toUtf8());
    return r;
}

// Sends one request as `client` would, to the URL and with the headers its settings give.
understudy::test::ClientResponse send(Client client, const ClientRequest& to) {
    using namespace understudy::test;
    const QUrl base(to.baseUrl);
    understudy::http::Headers headers = to.headers;
    headers.set("content-type", "application/json");
    const QByteArray path = base.path().toUtf8();
    if (client == Client::Codex)
        return request(base.port(), "POST", path + "/responses", R"({"model":"gpt-test","input":"say hi"})", headers);
    headers.set("anthropic-version", "2023-06-01");
    headers.set("x-api-key", "tok-fake-secret-client-key-0003");
    const QByteArray messages = path.endsWith("/v1") ? path + "/messages" : path + "/v1/messages";
    return request(base.port(), "POST", messages, messagesBody(QStringLiteral("claude-test"), false), headers);
}

}  // namespace

// What connect writes is what gets a client through a proxy that requires the token; the same client with
// what connect writes without a token is refused.
void TestConnect::token_connectedClientsGetThrough_othersGet401() {
    using namespace understudy::test;
    qputenv("UNDERSTUDY_TEST_CONNECT_TOKEN", kToken);
    qputenv("UNDERSTUDY_TEST_CONNECT_KEY", "tok-fake-secret-stored-key-0004");
    MockUpstream upstream;
    ProxyUnderTest proxy(QStringLiteral(R"({"version": 1,
        "listen": {"host": "127.0.0.1", "port": 8790, "accessToken": "env:UNDERSTUDY_TEST_CONNECT_TOKEN"},
        "providers": {"primary": {"type": "anthropic", "baseUrl": "%1", "apiKey": "env:UNDERSTUDY_TEST_CONNECT_KEY"}},
        "chains": {"main": {"steps": [{"provider": "primary"}]}}, "activeChain": "main"})")
                             .arg(upstream.baseUrl())
                             .toUtf8());
    QVERIFY(proxy.isListening());
    const QString url = proxyUrl(QStringLiteral("127.0.0.1"), proxy.port());
    for (const Client client : allClients()) {
        const QByteArray empty = client == Client::Codex ? QByteArray() : QByteArray("{}\n");
        const Edit withToken = connectText(client, empty, url, kToken);
        QVERIFY2(withToken.error.isEmpty(), qPrintable(withToken.error));
        const ClientResponse served = send(client, requestOf(client, withToken.text));
        QVERIFY2(served.status == 200, served.body.constData());

        const Edit withoutToken = connectText(client, empty, url);
        const ClientResponse refused = send(client, requestOf(client, withoutToken.text));
        QCOMPARE(refused.status, 401);
        QVERIFY2(refused.body.contains("understudy token"), refused.body.constData());
    }
    QCOMPARE(upstream.hits(), 3);
    for (const understudy::http::Request& received : upstream.requests()) {
        QVERIFY(!received.headers.contains("x-understudy-token"));
        QCOMPARE(received.headers.value("x-api-key"), QByteArray("tok-fake-secret-stored-key-0004"));
    }
    qunsetenv("UNDERSTUDY_TEST_CONNECT_TOKEN");
}

void TestConnect::state_notInstalled_namesTheFolder() {
    const Home home;
    for (const Client client : allClients()) {
        const Connection c = connectionState(client, home.path(), kUrl);
        QVERIFY(is(c, State::NotInstalled));
        QVERIFY2(c.reason.contains(home.path()) && c.reason.contains(clientTitle(client)), qPrintable(c.reason));
    }
}

void TestConnect::state_claude_followsTheFile() {
    const Home home;
    const QString settings = home.file(QStringLiteral(".claude/settings.json"));
    QDir().mkpath(home.file(QStringLiteral(".claude")));
    Connection c = connectionState(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(is(c, State::NotConnected));
    QCOMPARE(c.file, settings);
    QVERIFY2(c.reason.contains(QStringLiteral("does not exist yet")), qPrintable(c.reason));

    put(settings, data(QStringLiteral("claude-settings-noenv.json")));
    c = connectionState(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(is(c, State::NotConnected));
    QVERIFY2(c.reason.endsWith(QStringLiteral("does not set env.ANTHROPIC_BASE_URL")), qPrintable(c.reason));

    put(settings, "{ \"env\": { \"ANTHROPIC_BASE_URL\": \"https://gateway.example\" } }\n");
    c = connectionState(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(is(c, State::NotConnected));
    QVERIFY2(c.reason.contains(QStringLiteral("env.ANTHROPIC_BASE_URL is \"https://gateway.example\"")), qPrintable(c.reason));
    QVERIFY(is(connectionState(Client::ClaudeCode, home.path(), QStringLiteral("https://gateway.example")), State::Connected));

    put(settings, data(QStringLiteral("claude-settings.json")));
    QVERIFY(is(connectionState(Client::ClaudeCode, home.path(), kUrl), State::NotConnected));
    QVERIFY(connectClient(Client::ClaudeCode, home.path(), kUrl).ok);
    c = connectionState(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(is(c, State::Connected));
    QCOMPARE(c.file, settings);
    QVERIFY(c.reason.isEmpty());
    // Connected means connected to this proxy: another port is not it.
    QVERIFY(is(connectionState(Client::ClaudeCode, home.path(), QStringLiteral("http://127.0.0.1:8791")), State::NotConnected));

    put(settings, data(QStringLiteral("claude-settings-broken.json")));
    c = connectionState(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(is(c, State::Unreadable));
    QVERIFY2(c.reason.startsWith(settings + QStringLiteral(": line ")), qPrintable(c.reason));
    QCOMPARE(contentOf(settings), data(QStringLiteral("claude-settings-broken.json")));  // reading never writes
}

void TestConnect::state_codex_namesTheActiveProvider() {
    const Home home;
    const QString config = home.file(QStringLiteral(".codex/config.toml"));
    put(config, data(QStringLiteral("codex-config.toml")));
    Connection c = connectionState(Client::Codex, home.path(), kUrl);
    QVERIFY(is(c, State::NotConnected));
    const QByteArray before = contentOf(config);
    QVERIFY2(c.reason.contains(QStringLiteral("model_provider")), qPrintable(c.reason));

    put(config, "model_provider = \"openai\"\n");
    QCOMPARE(connectionState(Client::Codex, home.path(), kUrl).reason,
             config + QStringLiteral(": model_provider is \"openai\""));

    put(config, before);
    const Outcome connected = connectClient(Client::Codex, home.path(), kUrl);
    QVERIFY2(connected.ok, qPrintable(connected.message));
    QVERIFY(is(connectionState(Client::Codex, home.path(), kUrl), State::Connected));
    c = connectionState(Client::Codex, home.path(), QStringLiteral("http://127.0.0.1:9999"));
    QVERIFY(is(c, State::NotConnected));
    QCOMPARE(c.reason, config + QStringLiteral(": model_providers.understudy.base_url is \"") + kUrl + QStringLiteral("/v1\""));

    put(config, data(QStringLiteral("codex-config-broken.toml")));
    QVERIFY(is(connectionState(Client::Codex, home.path(), kUrl), State::Unreadable));
}

void TestConnect::state_opencode_connectedOnlyWhenEveryFileIs() {
    const Home home;
    const QString json = home.file(QStringLiteral(".config/opencode/opencode.json"));
    const QString jsonc = home.file(QStringLiteral(".config/opencode/opencode.jsonc"));
    put(json, data(QStringLiteral("opencode-minimal.json")));
    put(jsonc, data(QStringLiteral("opencode.jsonc")));
    QVERIFY(connectClient(Client::OpenCode, home.path(), kUrl).ok);
    QVERIFY(is(connectionState(Client::OpenCode, home.path(), kUrl), State::Connected));

    put(jsonc, data(QStringLiteral("opencode.jsonc")));  // the user put one file back
    const Connection c = connectionState(Client::OpenCode, home.path(), kUrl);
    QVERIFY(is(c, State::NotConnected));
    QCOMPARE(c.file, jsonc);
    QVERIFY2(c.reason.contains(QStringLiteral("provider.anthropic.options.baseURL")), qPrintable(c.reason));
}

void TestConnect::connectClient_outcomesForTheTray() {
    const Home home;
    const Outcome missing = connectClient(Client::Codex, home.path(), kUrl);
    QVERIFY(!missing.ok);
    QVERIFY2(missing.message.startsWith(QStringLiteral("Codex does not look installed")), qPrintable(missing.message));

    const QString settings = home.file(QStringLiteral(".claude/settings.json"));
    const QByteArray original = data(QStringLiteral("claude-settings.json"));
    put(settings, original);
    const Outcome connected = connectClient(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(connected.ok);
    QVERIFY2(connected.message.startsWith(QStringLiteral("Claude Code: ") + settings + QStringLiteral(" now points at ") + kUrl),
             qPrintable(connected.message));
    const Outcome again = connectClient(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(again.ok);
    QVERIFY2(again.message.contains(QStringLiteral("already points at")), qPrintable(again.message));

    const Outcome undone = undoClient(Client::ClaudeCode);
    QVERIFY2(undone.ok, qPrintable(undone.message));
    QVERIFY2(undone.message.contains(QStringLiteral(" restored (backup: ")), qPrintable(undone.message));
    QCOMPARE(contentOf(settings), original);
    QVERIFY(undoClient(Client::ClaudeCode).message.contains(QStringLiteral("nothing to undo")));

    put(settings, data(QStringLiteral("claude-settings-broken.json")));
    const Outcome broken = connectClient(Client::ClaudeCode, home.path(), kUrl);
    QVERIFY(!broken.ok);
    QVERIFY2(broken.message.startsWith(settings + QStringLiteral(": line ")), qPrintable(broken.message));
    QVERIFY2(!broken.message.contains(QStringLiteral("understudy:")), qPrintable(broken.message));
}

QTEST_GUILESS_MAIN(TestConnect)
#include "tst_connect.moc"
