#include "config/Config.h"
#include "config/ConfigFile.h"
#include "config/Secrets.h"

#include <QtTest>

using namespace understudy;

// Declared ahead of the fixtures: moc 6.4 loses track of a raw string literal that spans lines and contains
// "//" (every URL), and then finds no class in the rest of the file.
class TestConfig : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void baseDocumentIsValid();
    void designExampleReportsItsUndefinedClientChain();
    void designExampleParses();
    void defaultConfigParses();
    void errorCases_data();
    void errorCases();
    void invalidJsonNamesWhere();
    void emptyAndNonObjectDocuments();
    void byteOrderMarkIsAccepted();
    void everyProblemIsReported();
    void duplicateKeysAreReported();
    void literalSecretsAreNeverEchoed();
    void providerDefaults();
    void providerTypeNamesRoundTrip_data();
    void providerTypeNamesRoundTrip();
    void modelMapKeepsFileOrder();
    void globMapping_data();
    void globMapping();
    void catchAllMatchesEverything();
    void keepAndReplace();
    void secretReferenceShapes_data();
    void secretReferenceShapes();
    void environmentSecretResolves();
    void unsetEnvironmentSecret();
    void emptyEnvironmentSecret();
    void keychainSecretResolvesFromWhatWasRead();
    void missingKeychainEntry();
    void unreachableKeychain();
    void keychainNotRead();
    void literalSecretIsRefusedUnechoed();
    void defaultPathIsInAppConfigLocation();
    void loadCreatesDefaultOnFirstRun();
    void loadWithoutCreateReportsMissingFile();
    void loadReportsUnreadableFile();
    void loadLeavesAnInvalidFileAlone();
    void loadReportsValidationProblems();
    void saveRefusesInvalidAndKeepsTheOldFile();
    void saveReplacesAtomically();
    void saveReportsUnwritablePath();
    void ledgerRetention();
};

namespace {

// Small but complete: each error case below changes one thing in it.
const QByteArray kValid = R"({
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": 8790 },
  "providers": {
    "anthropic": { "type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client" },
    "zai": { "type": "anthropic", "baseUrl": "https://api.z.ai/api/anthropic", "apiKey": "env:ZAI_API_KEY" },
    "local": { "type": "openai-chat", "baseUrl": "http://127.0.0.1:11434/v1" }
  },
  "chains": {
    "main": { "steps": [
      { "provider": "anthropic" },
      { "provider": "zai", "model": "glm-5" },
      { "provider": "local", "model": { "*": "qwen3-coder" } }
    ] }
  },
  "activeChain": "main"
})";

QJsonValue replaced(const QJsonValue& node, QStringList keys, const QJsonValue& value) {
    if (keys.isEmpty())
        return value;
    const QString key = keys.takeFirst();
    if (node.isArray()) {
        QJsonArray array = node.toArray();
        array[key.toInt()] = replaced(array.at(key.toInt()), keys, value);
        return array;
    }
    QJsonObject object = node.toObject();
    if (keys.isEmpty() && value.isUndefined())
        object.remove(key);
    else
        object[key] = replaced(object.value(key), keys, value);
    return object;
}

// kValid with the value at `pointer` ("/providers/zai/apiKey") set to the JSON text `fragment`, or removed
// when `fragment` is empty. Model maps come out sorted, so cases about their order use raw text instead.
QByteArray patched(const QString& pointer, const QByteArray& fragment) {
    const QJsonValue value = fragment.isEmpty() ? QJsonValue(QJsonValue::Undefined)
                                                : QJsonDocument::fromJson('[' + fragment + ']').array().at(0);
    const QJsonValue root = QJsonDocument::fromJson(kValid).object();
    return QJsonDocument(replaced(root, pointer.split(u'/', Qt::SkipEmptyParts), value).toObject()).toJson();
}

QString describe(const QList<ConfigProblem>& problems) {
    QStringList lines;
    for (const ConfigProblem& problem : problems)
        lines.append(problem.path + QStringLiteral(": ") + problem.message);
    return lines.join(u'\n');
}

QStringList paths(const QList<ConfigProblem>& problems) {
    QStringList result;
    for (const ConfigProblem& problem : problems)
        result.append(problem.path);
    return result;
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

ModelMapping map(const QList<QPair<QString, QString>>& globs) {
    ModelMapping mapping;
    mapping.kind = ModelMapping::Kind::Map;
    mapping.globs = globs;
    return mapping;
}

}  // namespace

void TestConfig::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("understudy"));
    QCoreApplication::setApplicationName(QStringLiteral("understudy"));
}

void TestConfig::baseDocumentIsValid() {
    const ConfigResult result = parseConfig(kValid);
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    QVERIFY(result.config);
}

void TestConfig::designExampleReportsItsUndefinedClientChain() {
    // DESIGN.md §4 maps "codex" to a chain "codex-first" that the example never defines: valid (codex falls
    // back to the active chain), with a warning.
    const QByteArray json = readAll(QFINDTESTDATA("../data/config/design-example.json"));
    QVERIFY(!json.isEmpty());
    const ConfigResult result = parseConfig(json);
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    QVERIFY(result.config);
    QCOMPARE(result.warnings.size(), 1);
    QCOMPARE(result.warnings[0].path, QStringLiteral("$.clients.codex"));
    QVERIFY2(result.warnings[0].message.contains(QStringLiteral("unknown chain \"codex-first\"")),
             qPrintable(result.warnings[0].message));
}

void TestConfig::designExampleParses() {
    QByteArray json = readAll(QFINDTESTDATA("../data/config/design-example.json"));
    const QByteArray chains = "\"chains\": {\n";
    QVERIFY(json.contains(chains));
    json.replace(chains, chains + "    \"codex-first\": { \"steps\": [ { \"provider\": \"openrouter\" } ] },\n");

    const ConfigResult result = parseConfig(json);
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    const Config& config = *result.config;
    QCOMPARE(config.listen.host, QStringLiteral("127.0.0.1"));
    QCOMPARE(config.listen.port, 8790);
    QCOMPARE(config.providers.size(), 7);
    QCOMPARE(config.providers["anthropic"].auth, AuthMode::Client);
    QCOMPARE(config.providers["zai"].auth, AuthMode::Key);
    QCOMPARE(config.providers["zai"].apiKey, QStringLiteral("keychain:zai"));
    QCOMPARE(config.providers["openrouter"].type, ProviderType::OpenAIChat);
    QCOMPARE(config.providers["openrouter"].baseUrl, QUrl(QStringLiteral("https://openrouter.ai/api/v1")));
    QCOMPARE(config.providers["local"].auth, AuthMode::None);
    QCOMPARE(config.providers["bedrock"].type, ProviderType::Bedrock);
    QCOMPARE(config.providers["bedrock"].region, QStringLiteral("us-east-1"));
    QCOMPARE(config.providers["bedrock"].secretAccessKey, QStringLiteral("keychain:aws"));
    QCOMPARE(config.providers["vertex"].serviceAccount, QStringLiteral("keychain:vertex-sa"));
    QCOMPARE(config.providers["azure"].endpoint, QStringLiteral("https://res.openai.azure.com"));
    QCOMPARE(config.providers["azure"].apiVersion, QStringLiteral("2024-10-21"));

    const ChainConfig chain = config.chains["claude-first"];
    QCOMPARE(chain.steps.size(), 3);
    QCOMPARE(chain.steps[0].model.kind, ModelMapping::Kind::Keep);
    QCOMPARE(chain.steps[1].model.kind, ModelMapping::Kind::Replace);
    QCOMPARE(chain.steps[1].model.apply(QStringLiteral("claude-opus-4")), QStringLiteral("glm-5"));
    QCOMPARE(chain.steps[2].model.apply(QStringLiteral("claude-3-5-haiku-20241022")),
             QStringLiteral("qwen/qwen3-coder-flash"));
    QCOMPARE(chain.steps[2].model.apply(QStringLiteral("claude-sonnet-4-5")), QStringLiteral("qwen/qwen3-coder"));
    QCOMPARE(config.activeChain, QStringLiteral("claude-first"));
    QCOMPARE(config.clients.value(QStringLiteral("codex")), QStringLiteral("codex-first"));
    QVERIFY(!config.reroute);
    QCOMPARE(config.failover.totalBudgetMs, 100000);
    QCOMPARE(config.failover.triggerOnStatusCodes, (QList<int>{429, 500, 502, 503, 504, 529}));
    QCOMPARE(config.pricing["glm-5"].input, 1.0);
    QCOMPARE(config.pricing["glm-5"].output, 3.2);
    QCOMPARE(config.pricing["glm-5"].cacheRead, 0.2);
    QCOMPARE(config.pricing["glm-5"].cacheWrite, 0.0);
}

void TestConfig::defaultConfigParses() {
    const ConfigResult result = parseConfig(defaultConfigJson());
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    const Config& config = *result.config;
    QCOMPARE(config.listen.host, QStringLiteral("127.0.0.1"));
    QCOMPARE(config.listen.port, 8790);
    QCOMPARE(config.providers.keys(), QStringList{QStringLiteral("anthropic")});
    QCOMPARE(config.providers["anthropic"].type, ProviderType::Anthropic);
    QCOMPARE(config.providers["anthropic"].auth, AuthMode::Client);
    QCOMPARE(config.providers["anthropic"].baseUrl, QUrl(QStringLiteral("https://api.anthropic.com")));
    QCOMPARE(config.chains.keys(), QStringList{QStringLiteral("default")});
    QCOMPARE(config.chains["default"].steps.size(), 1);
    QCOMPARE(config.chains["default"].steps[0].provider, QStringLiteral("anthropic"));
    QCOMPARE(config.activeChain, QStringLiteral("default"));

    const FailoverConfig defaults;
    QCOMPARE(config.failover.triggerOnStatusCodes, defaults.triggerOnStatusCodes);
    QCOMPARE(config.failover.retriesBeforeFailover, defaults.retriesBeforeFailover);
    QCOMPARE(config.failover.maxRetryAfterWaitMs, defaults.maxRetryAfterWaitMs);
    QCOMPARE(config.failover.connectTimeoutMs, defaults.connectTimeoutMs);
    QCOMPARE(config.failover.firstTokenTimeoutMs, defaults.firstTokenTimeoutMs);
    QCOMPARE(config.failover.firstTokenTimeoutPer100kTokensMs, defaults.firstTokenTimeoutPer100kTokensMs);
    QCOMPARE(config.failover.streamIdleTimeoutMs, defaults.streamIdleTimeoutMs);
    QCOMPARE(config.failover.totalBudgetMs, defaults.totalBudgetMs);
    QCOMPARE(config.failover.primaryRecoveryCheckIntervalMs, defaults.primaryRecoveryCheckIntervalMs);
    // Every failover key is written out, so the user can see what there is to tune.
    QCOMPARE(QJsonDocument::fromJson(defaultConfigJson()).object()["failover"].toObject().size(), 10);
    QCOMPARE(config.failover.switchBeforeLimitPercent, 0);  // off unless asked for
}

void TestConfig::errorCases_data() {
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<QByteArray>("fragment");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message");

    QTest::newRow("unknown top-level key") << "/activeChian" << QByteArray(R"("main")") << "$.activeChian"
                                           << R"(unknown key "activeChian"; did you mean "activeChain"?)";
    QTest::newRow("unknown key, nothing close") << "/listen/bind" << QByteArray(R"("::1")") << "$.listen.bind"
                                                << R"(unknown key "bind"; expected one of "host", "port")";
    QTest::newRow("unknown failover key")
        << "/failover" << QByteArray(R"({"triggerOnStatusCode": [429]})") << "$.failover.triggerOnStatusCode"
        << R"(did you mean "triggerOnStatusCodes"?)";
    QTest::newRow("key in the wrong case")
        << "/providers/local/baseURL" << QByteArray(R"("http://x")") << "$.providers.local.baseURL"
        << R"(did you mean "baseUrl"?)";
    QTest::newRow("key of another provider type")
        << "/providers/zai/region" << QByteArray(R"("us-east-1")") << "$.providers.zai.region"
        << R"("region" does not apply to providers of type "anthropic")";
    QTest::newRow("version from the future") << "/version" << QByteArray("2") << "$.version"
                                             << "reads version 1";
    QTest::newRow("port as a string") << "/listen/port" << QByteArray(R"("8790")") << "$.listen.port"
                                      << "expected a whole number, got a string";
    QTest::newRow("port out of range") << "/listen/port" << QByteArray("70000") << "$.listen.port"
                                       << "must be between 1 and 65535, got 70000";
    QTest::newRow("port not whole") << "/listen/port" << QByteArray("8790.5") << "$.listen.port"
                                    << "expected a whole number, got 8790.5";
    QTest::newRow("empty host") << "/listen/host" << QByteArray(R"("")") << "$.listen.host"
                                << "must not be empty";
    QTest::newRow("providers not an object") << "/providers" << QByteArray("[]") << "$.providers"
                                             << "expected an object, got an array";
    QTest::newRow("unknown provider type")
        << "/providers/local/type" << QByteArray(R"("openai_chat")") << "$.providers.local.type"
        << R"(unknown provider type "openai_chat"; did you mean "openai-chat"?)";
    QTest::newRow("missing provider type") << "/providers/local/type" << QByteArray() << "$.providers.local.type"
                                           << R"("type" is required)";
    QTest::newRow("missing baseUrl") << "/providers/local/baseUrl" << QByteArray() << "$.providers.local.baseUrl"
                                     << R"("baseUrl" is required)";
    QTest::newRow("relative baseUrl") << "/providers/zai/baseUrl" << QByteArray(R"("api.z.ai/api/anthropic")")
                                      << "$.providers.zai.baseUrl"
                                      << "must be an absolute http:// or https:// URL";
    QTest::newRow("ftp baseUrl") << "/providers/zai/baseUrl" << QByteArray(R"("ftp://api.z.ai")")
                                 << "$.providers.zai.baseUrl"
                                 << "must be an absolute http:// or https:// URL";
    QTest::newRow("baseUrl with credentials")
        << "/providers/zai/baseUrl" << QByteArray(R"("https://me:hunter2@api.z.ai")") << "$.providers.zai.baseUrl"
        << "must not contain a user name or password";
    QTest::newRow("baseUrl with query") << "/providers/zai/baseUrl" << QByteArray(R"("https://api.z.ai/?x=1")")
                                        << "$.providers.zai.baseUrl"
                                        << "must not have a ?query";
    QTest::newRow("unknown auth") << "/providers/anthropic/auth" << QByteArray(R"("oauth")")
                                  << "$.providers.anthropic.auth"
                                  << R"(unknown auth "oauth"; expected one of "client", "key", "none")";
    QTest::newRow("client auth with a key")
        << "/providers/anthropic/apiKey" << QByteArray(R"("env:ANTHROPIC_KEY")") << "$.providers.anthropic.auth"
        << "forwards the client's own credentials, so apiKey would never be sent";
    QTest::newRow("no auth with a key") << "/providers/zai/auth" << QByteArray(R"("none")") << "$.providers.zai.auth"
                                        << "sends no credentials, so apiKey would never be sent";
    QTest::newRow("key auth without a key")
        << "/providers/local/auth" << QByteArray(R"("key")") << "$.providers.local.apiKey"
        << R"("apiKey" is required with auth "key")";
    QTest::newRow("literal apiKey")
        << "/providers/zai/apiKey" << QByteArray(R"("sk-live-123")") << "$.providers.zai.apiKey"
        << R"(apiKey must be a secret reference, "env:NAME" (an environment variable) or "keychain:NAME")";
    QTest::newRow("apiKey not a string") << "/providers/zai/apiKey" << QByteArray("42") << "$.providers.zai.apiKey"
                                         << "got a number";
    QTest::newRow("bad environment name")
        << "/providers/zai/apiKey" << QByteArray(R"("env:ZAI KEY")") << "$.providers.zai.apiKey"
        << "must be followed by an environment variable name";
    QTest::newRow("empty keychain name") << "/providers/zai/apiKey" << QByteArray(R"("keychain:")")
                                         << "$.providers.zai.apiKey"
                                         << "must be followed by the name of a keychain entry";
    QTest::newRow("prefill not a boolean")
        << "/providers/zai/prefill" << QByteArray(R"("no")") << "$.providers.zai.prefill"
        << "expected true or false, got a string";
    QTest::newRow("provider id with a space")
        << "/providers/my local" << QByteArray(R"({"type": "openai-chat", "baseUrl": "http://127.0.0.1:1/v1"})")
        << R"($.providers["my local"])"
        << R"(provider id "my local" may only contain letters, digits)";
    QTest::newRow("bedrock without region")
        << "/providers/bedrock"
        << QByteArray(R"({"type": "bedrock", "accessKeyId": "env:A", "secretAccessKey": "env:B"})")
        << "$.providers.bedrock.region"
        << R"("region" is required)";
    QTest::newRow("bedrock literal secret")
        << "/providers/bedrock"
        << QByteArray(
               R"({"type": "bedrock", "region": "us-east-1", "accessKeyId": "env:A", "secretAccessKey": "wJalr/K7MDENG"})")
        << "$.providers.bedrock.secretAccessKey"
        << "secretAccessKey must be a secret reference";
    QTest::newRow("bedrock relative endpoint")
        << "/providers/bedrock"
        << QByteArray(
               R"({"type": "bedrock", "region": "us-east-1", "accessKeyId": "env:A", "secretAccessKey": "env:B", "endpoint": "vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com"})")
        << "$.providers.bedrock.endpoint"
        << "must be an absolute http:// or https:// URL";
    QTest::newRow("vertex without service account")
        << "/providers/vertex" << QByteArray(R"({"type": "vertex", "project": "p", "region": "us-east5"})")
        << "$.providers.vertex.serviceAccount"
        << R"("serviceAccount" is required)";
    QTest::newRow("azure relative endpoint")
        << "/providers/azure"
        << QByteArray(
               R"({"type": "azure-openai", "endpoint": "res.openai.azure.com", "apiVersion": "2024-10-21", "apiKey": "env:AZ"})")
        << "$.providers.azure.endpoint"
        << "must be an absolute http:// or https:// URL";
    QTest::newRow("no chains") << "/chains" << QByteArray("{}") << "$.chains"
                               << "at least one chain is required";
    QTest::newRow("chains missing") << "/chains" << QByteArray() << "$.chains"
                                    << "at least one chain is required";
    QTest::newRow("chain id with a slash")
        << "/chains/a~b" << QByteArray(R"({"steps": [{"provider": "zai"}]})") << "$.chains[\"a~b\"]"
        << R"(chain id "a~b" may only contain)";
    QTest::newRow("unknown chain key") << "/chains/main/step" << QByteArray("[]") << "$.chains.main.step"
                                       << R"(unknown key "step"; did you mean "steps"?)";
    QTest::newRow("no steps") << "/chains/main/steps" << QByteArray("[]") << "$.chains.main.steps"
                              << "a chain needs at least one step";
    QTest::newRow("steps missing") << "/chains/main/steps" << QByteArray() << "$.chains.main.steps"
                                   << R"("steps" is required)";
    QTest::newRow("step names unknown provider")
        << "/chains/main/steps/1/provider" << QByteArray(R"("zia")") << "$.chains.main.steps[1].provider"
        << R"(unknown provider "zia"; did you mean "zai"?)";
    QTest::newRow("step names unknown provider, nothing close")
        << "/chains/main/steps/1/provider" << QByteArray(R"("openrouter")") << "$.chains.main.steps[1].provider"
        << R"(unknown provider "openrouter"; expected one of "anthropic", "local", "zai")";
    QTest::newRow("step without provider")
        << "/chains/main/steps/0/provider" << QByteArray() << "$.chains.main.steps[0].provider"
        << R"("provider" is required)";
    QTest::newRow("step not an object") << "/chains/main/steps/0" << QByteArray(R"("anthropic")")
                                        << "$.chains.main.steps[0]"
                                        << "expected an object, got a string";
    QTest::newRow("empty model") << "/chains/main/steps/1/model" << QByteArray(R"("")")
                                 << "$.chains.main.steps[1].model"
                                 << "must not be empty";
    QTest::newRow("model as an array")
        << "/chains/main/steps/1/model" << QByteArray(R"(["glm-5"])") << "$.chains.main.steps[1].model"
        << "expected a model name or an object mapping model globs to models, got an array";
    QTest::newRow("empty model map") << "/chains/main/steps/2/model" << QByteArray("{}")
                                     << "$.chains.main.steps[2].model"
                                     << "an empty model map matches nothing";
    QTest::newRow("glob after catch-all")
        << "/chains/main/steps/2/model" << QByteArray(R"({"*": "a", "claude-*": "b"})")
        << R"($.chains.main.steps[2].model["claude-*"])"
        << R"(glob "claude-*" is never used because "*" above it matches every model)";
    QTest::newRow("glob maps to nothing")
        << "/chains/main/steps/2/model" << QByteArray(R"({"*": 5})") << R"($.chains.main.steps[2].model["*"])"
        << "expected a string, got a number";
    QTest::newRow("step prefill not a boolean")
        << "/chains/main/steps/1/prefill" << QByteArray("0") << "$.chains.main.steps[1].prefill"
        << "expected true or false";
    QTest::newRow("unknown active chain") << "/activeChain" << QByteArray(R"("mian")") << "$.activeChain"
                                          << R"(unknown chain "mian"; did you mean "main"?)";
    QTest::newRow("active chain missing") << "/activeChain" << QByteArray() << "$.activeChain"
                                          << R"("activeChain" is required)";
    QTest::newRow("reroute to unknown provider")
        << "/reroute" << QByteArray(R"({"provider": "openrouter"})") << "$.reroute.provider"
        << R"(unknown provider "openrouter")";
    QTest::newRow("reroute as a string") << "/reroute" << QByteArray(R"("zai")") << "$.reroute"
                                         << "expected null or an object";
    QTest::newRow("negative retries") << "/failover" << QByteArray(R"({"retriesBeforeFailover": -1})")
                                      << "$.failover.retriesBeforeFailover"
                                      << "must be 0 or more, got -1";
    QTest::newRow("zero timeout") << "/failover" << QByteArray(R"({"connectTimeoutMs": 0})")
                                  << "$.failover.connectTimeoutMs"
                                  << "must be 1 or more, got 0";
    QTest::newRow("switch margin over 99")
        << "/failover" << QByteArray(R"({"switchBeforeLimitPercent": 100})") << "$.failover.switchBeforeLimitPercent"
        << "must be between 0 and 99, got 100";
    QTest::newRow("switch margin a fraction")
        << "/failover" << QByteArray(R"({"switchBeforeLimitPercent": 2.5})") << "$.failover.switchBeforeLimitPercent"
        << "expected a whole number, got 2.5";
    QTest::newRow("daily budget zero")
        << "/chains/main/steps/1/dailyBudgetUsd" << QByteArray("0") << "$.chains.main.steps[1].dailyBudgetUsd"
        << "expected a positive number of US dollars a day, e.g. 5, got a number";
    QTest::newRow("daily budget a string")
        << "/chains/main/steps/1/dailyBudgetUsd" << QByteArray(R"("5")") << "$.chains.main.steps[1].dailyBudgetUsd"
        << "expected a positive number of US dollars a day, e.g. 5, got a string";
    QTest::newRow("trigger code not an error")
        << "/failover" << QByteArray(R"({"triggerOnStatusCodes": [429, 200]})") << "$.failover.triggerOnStatusCodes[1]"
        << "must be between 400 and 599, got 200";
    QTest::newRow("negative price") << "/pricing" << QByteArray(R"({"glm-5": {"input": -1, "output": 1}})")
                                    << "$.pricing.glm-5.input"
                                    << "must be 0 or more, got -1";
    QTest::newRow("price without output") << "/pricing" << QByteArray(R"({"qwen/qwen3-coder": {"input": 1}})")
                                          << R"($.pricing["qwen/qwen3-coder"].output)"
                                          << R"("output" is required)";
    QTest::newRow("unknown price key") << "/pricing"
                                       << QByteArray(R"({"glm-5": {"input": 1, "output": 1, "cacheHit": 0}})")
                                       << "$.pricing.glm-5.cacheHit"
                                       << R"(did you mean "cacheWrite"?)";
    QTest::newRow("retention not a number") << "/ledger" << QByteArray(R"({"retentionDays": "90"})")
                                            << "$.ledger.retentionDays" << "expected a whole number, got a string";
    QTest::newRow("negative retention") << "/ledger" << QByteArray(R"({"retentionDays": -1})")
                                        << "$.ledger.retentionDays" << "must be 0 or more, got -1";
    QTest::newRow("fractional retention") << "/ledger" << QByteArray(R"({"retentionDays": 1.5})")
                                          << "$.ledger.retentionDays" << "expected a whole number, got 1.5";
    QTest::newRow("ledger not an object") << "/ledger" << QByteArray("90") << "$.ledger"
                                          << "expected an object, got a number";
    QTest::newRow("unknown ledger key") << "/ledger" << QByteArray(R"({"retentionDay": 30})")
                                        << "$.ledger.retentionDay" << R"(did you mean "retentionDays"?)";
}

// Each case has exactly one problem: one mistake must not cascade into a page of them.
void TestConfig::errorCases() {
    QFETCH(QString, pointer);
    QFETCH(QByteArray, fragment);
    QFETCH(QString, path);
    QFETCH(QString, message);

    const ConfigResult result = parseConfig(patched(pointer, fragment));
    QVERIFY(!result.config);
    QVERIFY2(result.problems.size() == 1, qPrintable(describe(result.problems)));
    QCOMPARE(result.problems[0].path, path);
    QVERIFY2(result.problems[0].message.contains(message), qPrintable(result.problems[0].message));
}

void TestConfig::invalidJsonNamesWhere() {
    const ConfigResult result = parseConfig("{\n  \"version\": 1,\n  \"listen\" {}\n}");
    QVERIFY(!result.config);
    QCOMPARE(result.problems.size(), 1);
    QCOMPARE(result.problems[0].path, QStringLiteral("$"));
    QVERIFY2(result.problems[0].message.startsWith(QStringLiteral("invalid JSON at line 3, column ")),
             qPrintable(result.problems[0].message));
    QVERIFY2(result.problems[0].message.contains(QStringLiteral("(byte ")), qPrintable(result.problems[0].message));
    QVERIFY2(result.problems[0].message.contains(QStringLiteral("missing name separator")),
             qPrintable(result.problems[0].message));
}

void TestConfig::emptyAndNonObjectDocuments() {
    const ConfigResult empty = parseConfig(" \n");
    QCOMPARE(paths(empty.problems), QStringList{QStringLiteral("$")});
    QVERIFY(empty.problems[0].message.contains(QStringLiteral("empty")));

    const ConfigResult array = parseConfig("[]");
    QCOMPARE(paths(array.problems), QStringList{QStringLiteral("$")});
    QVERIFY(array.problems[0].message.contains(QStringLiteral("got an array")));
}

void TestConfig::byteOrderMarkIsAccepted() {
    const ConfigResult result = parseConfig("\xEF\xBB\xBF" + defaultConfigJson());
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
}

void TestConfig::everyProblemIsReported() {
    const QByteArray json = R"({
      "listen": { "port": 0 },
      "providers": {
        "zai": { "type": "anthropic", "baseUrl": "https://api.z.ai/api/anthropic", "apiKey": "sk-1" },
        "local": { "type": "openai-chat" }
      },
      "chains": { "main": { "steps": [ { "provider": "zai" }, { "provider": "nowhere" } ] } },
      "activeChain": "main",
      "failover": { "totalBudgetMs": -5 },
      "colour": "blue"
    })";
    const ConfigResult result = parseConfig(json);
    QVERIFY(!result.config);
    const QStringList expected{
        QStringLiteral("$.colour"),
        QStringLiteral("$.listen.port"),
        QStringLiteral("$.providers.zai.apiKey"),
        QStringLiteral("$.providers.local.baseUrl"),
        QStringLiteral("$.chains.main.steps[1].provider"),
        QStringLiteral("$.failover.totalBudgetMs"),
    };
    QCOMPARE(paths(result.problems), expected);
}

void TestConfig::duplicateKeysAreReported() {
    const QByteArray json = R"({
      "providers": {
        "anthropic": { "type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client" },
        "anthropic": { "type": "anthropic", "baseUrl": "https://proxy.example.com", "auth": "client" }
      },
      "chains": { "main": { "steps": [ { "provider": "anthropic" } ] } },
      "activeChain": "main"
    })";
    const ConfigResult result = parseConfig(json);
    QCOMPARE(paths(result.problems), QStringList{QStringLiteral("$.providers.anthropic")});
    QVERIFY(result.problems[0].message.contains(QStringLiteral("appears more than once")));
}

void TestConfig::literalSecretsAreNeverEchoed() {
    const QString secret = QStringLiteral("sk-ant-api03-DoNotPrintMe");
    const QByteArray json = QStringLiteral(R"({
      "providers": {
        "zai": { "type": "anthropic", "baseUrl": "https://user:%1@api.z.ai", "apiKey": "%1" },
        "bedrock": { "type": "bedrock", "region": "us-east-1", "accessKeyId": "%1", "secretAccessKey": "env:%1" },
        "vertex": { "type": "vertex", "project": "p", "region": "r", "serviceAccount": "keychain" },
        "azure": { "type": "azure-openai", "endpoint": "https://a.example.com", "apiVersion": "1", "apiKey": "%1" }
      },
      "chains": { "main": { "steps": [ { "provider": "zai" } ] } },
      "activeChain": "main"
    })")
                                .arg(secret)
                                .toUtf8();
    const ConfigResult result = parseConfig(json);
    const QStringList expected{
        QStringLiteral("$.providers.zai.baseUrl"),           QStringLiteral("$.providers.zai.apiKey"),
        QStringLiteral("$.providers.bedrock.accessKeyId"),   QStringLiteral("$.providers.bedrock.secretAccessKey"),
        QStringLiteral("$.providers.vertex.serviceAccount"), QStringLiteral("$.providers.azure.apiKey"),
    };
    QCOMPARE(paths(result.problems), expected);
    for (const ConfigProblem& problem : result.problems)
        QVERIFY2(!problem.message.contains(QStringLiteral("DoNotPrintMe")), qPrintable(problem.message));
}

void TestConfig::providerDefaults() {
    const ConfigResult result = parseConfig(R"({
      "providers": {
        "zai": { "type": "anthropic", "baseUrl": "https://api.z.ai/api/anthropic/", "apiKey": "env:ZAI" },
        "local": { "type": "openai-responses", "baseUrl": "http://127.0.0.1:11434/v1", "prefill": false }
      },
      "chains": { "main": { "steps": [ { "provider": "zai", "prefill": false }, { "provider": "local" } ] } },
      "activeChain": "main",
      "reroute": { "provider": "local" }
    })");
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    const Config& config = *result.config;
    QCOMPARE(config.version, 1);
    QCOMPARE(config.listen.port, 8790);
    QCOMPARE(config.providers["zai"].auth, AuthMode::Key);
    QCOMPARE(config.providers["zai"].prefill, true);
    QCOMPARE(config.providers["zai"].baseUrl, QUrl(QStringLiteral("https://api.z.ai/api/anthropic")));
    QCOMPARE(config.providers["local"].auth, AuthMode::None);
    QCOMPARE(config.providers["local"].prefill, false);
    QCOMPARE(config.chains["main"].steps[0].prefill, std::optional<bool>(false));
    QCOMPARE(config.chains["main"].steps[1].prefill, std::optional<bool>());
    QVERIFY(config.reroute);
    QCOMPARE(config.reroute->provider, QStringLiteral("local"));
    QVERIFY(config.reroute->model.isEmpty());
    QCOMPARE(config.failover.connectTimeoutMs, FailoverConfig().connectTimeoutMs);
}

void TestConfig::providerTypeNamesRoundTrip_data() {
    QTest::addColumn<ProviderType>("type");
    QTest::addColumn<QString>("name");
    QTest::newRow("anthropic") << ProviderType::Anthropic << "anthropic";
    QTest::newRow("openai-chat") << ProviderType::OpenAIChat << "openai-chat";
    QTest::newRow("openai-responses") << ProviderType::OpenAIResponses << "openai-responses";
    QTest::newRow("bedrock") << ProviderType::Bedrock << "bedrock";
    QTest::newRow("vertex") << ProviderType::Vertex << "vertex";
    QTest::newRow("azure-openai") << ProviderType::AzureOpenAI << "azure-openai";
}

void TestConfig::providerTypeNamesRoundTrip() {
    QFETCH(ProviderType, type);
    QFETCH(QString, name);
    QCOMPARE(providerTypeName(type), name);
    const ConfigResult result =
        parseConfig(patched(QStringLiteral("/providers/local/type"), '"' + name.toUtf8() + '"'));
    // The http types accept the rest of "local" as it is; the cloud ones complain about its keys, not its type.
    QVERIFY(!paths(result.problems).contains(QStringLiteral("$.providers.local.type")));
    if (result.config)
        QCOMPARE(result.config->providers["local"].type, type);
}

void TestConfig::modelMapKeepsFileOrder() {
    // Sorted, "*" would come first and "claude-x" would map to "any".
    const ConfigResult result = parseConfig(R"({
      "providers": { "p": { "type": "openai-chat", "baseUrl": "http://127.0.0.1:1/v1" } },
      "chains": { "main": { "steps": [ { "provider": "p",
        "model": { "claude-\u002a": "specific", "gpt-?": "gpt", "*": "any" } } ] } },
      "activeChain": "main"
    })");
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    const ModelMapping mapping = result.config->chains["main"].steps[0].model;
    QCOMPARE(mapping.kind, ModelMapping::Kind::Map);
    const QList<QPair<QString, QString>> expected{
        {QStringLiteral("claude-*"), QStringLiteral("specific")},
        {QStringLiteral("gpt-?"), QStringLiteral("gpt")},
        {QStringLiteral("*"), QStringLiteral("any")},
    };
    QCOMPARE(mapping.globs, expected);
    QCOMPARE(mapping.apply(QStringLiteral("claude-x")), QStringLiteral("specific"));
    QCOMPARE(mapping.apply(QStringLiteral("gpt-5")), QStringLiteral("gpt"));
    QCOMPARE(mapping.apply(QStringLiteral("gpt-5o")), QStringLiteral("any"));
}

void TestConfig::globMapping_data() {
    QTest::addColumn<QString>("requested");
    QTest::addColumn<QString>("mapped");  // empty: no glob matches
    QTest::newRow("haiku") << "claude-3-5-haiku-20241022" << QStringLiteral("fast");
    QTest::newRow("haiku, other case") << "Claude-Haiku-4-5" << QStringLiteral("fast");
    QTest::newRow("star matches nothing too") << "claude-haiku" << QStringLiteral("fast");
    QTest::newRow("question mark is one character") << "gpt-5" << QStringLiteral("gpt");
    QTest::newRow("question mark is not two") << "gpt-4o" << QString();
    QTest::newRow("question mark is not zero") << "gpt-" << QString();
    QTest::newRow("literal characters must match") << "claude-sonnet-4" << QString();
    QTest::newRow("empty name") << "" << QString();
}

void TestConfig::globMapping() {
    QFETCH(QString, requested);
    QFETCH(QString, mapped);
    const ModelMapping mapping = map(
        {{QStringLiteral("claude-*haiku*"), QStringLiteral("fast")}, {QStringLiteral("gpt-?"), QStringLiteral("gpt")}});
    const std::optional<QString> result = mapping.apply(requested);
    if (mapped.isEmpty())
        QVERIFY2(!result, qPrintable(result.value_or(QString())));
    else
        QCOMPARE(result, mapped);
}

void TestConfig::catchAllMatchesEverything() {
    const ModelMapping mapping = map({{QStringLiteral("*"), QStringLiteral("big")}});
    QCOMPARE(mapping.apply(QStringLiteral("claude-opus-4-1")), QStringLiteral("big"));
    QCOMPARE(mapping.apply(QString()), QStringLiteral("big"));
}

void TestConfig::keepAndReplace() {
    ModelMapping keep;
    QCOMPARE(keep.apply(QStringLiteral("claude-opus-4")), QStringLiteral("claude-opus-4"));
    ModelMapping replace;
    replace.kind = ModelMapping::Kind::Replace;
    replace.model = QStringLiteral("glm-5");
    QCOMPARE(replace.apply(QStringLiteral("claude-opus-4")), QStringLiteral("glm-5"));
}

void TestConfig::secretReferenceShapes_data() {
    QTest::addColumn<QString>("reference");
    QTest::addColumn<bool>("valid");
    QTest::newRow("env") << "env:OPENROUTER_API_KEY" << true;
    QTest::newRow("env, underscore first") << "env:_KEY" << true;
    QTest::newRow("keychain") << "keychain:vertex-sa" << true;
    QTest::newRow("env without name") << "env:" << false;
    QTest::newRow("env, digit first") << "env:1KEY" << false;
    QTest::newRow("env with a dash") << "env:MY-KEY" << false;
    QTest::newRow("keychain without name") << "keychain:" << false;
    QTest::newRow("keychain, blank name") << "keychain:  " << false;
    QTest::newRow("literal key") << "sk-ant-api03-abc" << false;
    QTest::newRow("upper-case prefix") << "ENV:KEY" << false;
    QTest::newRow("empty") << "" << false;
}

void TestConfig::secretReferenceShapes() {
    QFETCH(QString, reference);
    QFETCH(bool, valid);
    QCOMPARE(isSecretReference(reference), valid);
}

void TestConfig::environmentSecretResolves() {
    qputenv("UNDERSTUDY_TEST_KEY", " sk-from-env\n");
    const SecretLookup lookup =
        resolveSecret(QStringLiteral("env:UNDERSTUDY_TEST_KEY"), QStringLiteral("provider 'zai'"));
    qunsetenv("UNDERSTUDY_TEST_KEY");
    QCOMPARE(lookup.error, QString());
    QCOMPARE(lookup.value, QByteArray("sk-from-env"));
}

void TestConfig::unsetEnvironmentSecret() {
    qunsetenv("UNDERSTUDY_TEST_UNSET");
    const SecretLookup lookup =
        resolveSecret(QStringLiteral("env:UNDERSTUDY_TEST_UNSET"), QStringLiteral("provider 'zai'"));
    QVERIFY(lookup.value.isEmpty());
    QCOMPARE(lookup.error, QStringLiteral("provider 'zai': apiKey refers to environment variable "
                                          "UNDERSTUDY_TEST_UNSET, which is not set"));
}

void TestConfig::emptyEnvironmentSecret() {
    qputenv("UNDERSTUDY_TEST_EMPTY", "");
    const SecretLookup lookup = resolveSecret(QStringLiteral("env:UNDERSTUDY_TEST_EMPTY"),
                                              QStringLiteral("provider 'bedrock'"), QStringLiteral("sessionToken"));
    qunsetenv("UNDERSTUDY_TEST_EMPTY");
    QVERIFY(lookup.value.isEmpty());
    QCOMPARE(lookup.error, QStringLiteral("provider 'bedrock': sessionToken refers to environment variable "
                                          "UNDERSTUDY_TEST_EMPTY, which is empty"));
}

void TestConfig::keychainSecretResolvesFromWhatWasRead() {
    KeychainValues keychain;
    keychain.values.insert(QStringLiteral("zai"), QByteArray("test-keychain-value"));
    const SecretLookup lookup = resolveSecret(QStringLiteral("keychain:zai"), QStringLiteral("provider 'zai'"),
                                              QStringLiteral("apiKey"), &keychain);
    QCOMPARE(lookup.error, QString());
    QCOMPARE(lookup.value, QByteArray("test-keychain-value"));
}

void TestConfig::missingKeychainEntry() {
    KeychainValues keychain;
    keychain.unread.insert(QStringLiteral("zai"), {KeychainValues::Failure::Missing, {}});
    const SecretLookup lookup = resolveSecret(QStringLiteral("keychain:zai"), QStringLiteral("provider 'zai'"),
                                              QStringLiteral("apiKey"), &keychain);
    QVERIFY(lookup.value.isEmpty());
    QCOMPARE(lookup.error, QStringLiteral("provider 'zai': apiKey refers to keychain entry 'zai', which does not "
                                          "exist; add it with: understudy keys set zai"));
}

void TestConfig::unreachableKeychain() {
    KeychainValues keychain;
    keychain.unread.insert(QStringLiteral("aws"), {KeychainValues::Failure::Unreachable,
                                                   QStringLiteral("Cannot autolaunch D-Bus without X11 $DISPLAY")});
    const SecretLookup lookup = resolveSecret(QStringLiteral("keychain:aws"), QStringLiteral("provider 'bedrock'"),
                                              QStringLiteral("secretAccessKey"), &keychain);
    QVERIFY(lookup.value.isEmpty());
    QCOMPARE(lookup.error, QStringLiteral("provider 'bedrock': secretAccessKey refers to keychain entry 'aws', but no "
                                          "OS keychain is reachable (Cannot autolaunch D-Bus without X11 $DISPLAY); "
                                          "on a machine without one, put the key in an environment variable and "
                                          "refer to it as env:NAME instead"));
}

void TestConfig::keychainNotRead() {
    const SecretLookup lookup = resolveSecret(QStringLiteral("keychain:zai"), QStringLiteral("provider 'zai'"));
    QVERIFY(lookup.value.isEmpty());
    QCOMPARE(lookup.error, QStringLiteral("provider 'zai': apiKey refers to keychain entry 'zai', which was not read "
                                          "from the OS keychain when the config was loaded"));
}

void TestConfig::literalSecretIsRefusedUnechoed() {
    const SecretLookup lookup = resolveSecret(QStringLiteral("sk-ant-DoNotPrintMe"), QStringLiteral("provider 'zai'"));
    QVERIFY(lookup.value.isEmpty());
    QVERIFY(lookup.error.startsWith(QStringLiteral("provider 'zai': apiKey is not a secret reference")));
    QVERIFY(!lookup.error.contains(QStringLiteral("DoNotPrintMe")));
}

void TestConfig::defaultPathIsInAppConfigLocation() {
    const QString path = ConfigFile::defaultPath();
    QCOMPARE(path,
             QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) + QStringLiteral("/understudy.json"));
    QVERIFY(path.contains(QStringLiteral("understudy")));
}

void TestConfig::loadCreatesDefaultOnFirstRun() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("new/folder/understudy.json"));
    const ConfigResult result = ConfigFile::load(path, true);
    QVERIFY2(result.problems.isEmpty(), qPrintable(describe(result.problems)));
    QCOMPARE(result.config->activeChain, QStringLiteral("default"));
    QCOMPARE(readAll(path), defaultConfigJson());
    QCOMPARE(QDir(dir.filePath(QStringLiteral("new/folder"))).entryList(QDir::Files),
             QStringList{QStringLiteral("understudy.json")});
}

void TestConfig::loadWithoutCreateReportsMissingFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("absent.json"));
    const ConfigResult result = ConfigFile::load(path, false);
    QVERIFY(!result.config);
    QCOMPARE(paths(result.problems), QStringList{QStringLiteral("$")});
    QVERIFY2(result.problems[0].message.contains(QDir::toNativeSeparators(path)),
             qPrintable(result.problems[0].message));
    QVERIFY2(result.problems[0].message.contains(QStringLiteral("No such file")),
             qPrintable(result.problems[0].message));
    QVERIFY(!QFileInfo::exists(path));
}

void TestConfig::loadReportsUnreadableFile() {
    QTemporaryDir dir;
    const ConfigResult result = ConfigFile::load(dir.path(), true);  // a folder exists but is not a file
    QCOMPARE(paths(result.problems), QStringList{QStringLiteral("$")});
    QVERIFY2(
        result.problems[0].message.startsWith(QStringLiteral("cannot read ") + QDir::toNativeSeparators(dir.path())),
        qPrintable(result.problems[0].message));
}

void TestConfig::loadLeavesAnInvalidFileAlone() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    const QByteArray broken = "{ \"listen\": { \"port\": 0 } ";
    QVERIFY(writeAll(path, broken));
    const ConfigResult result = ConfigFile::load(path, true);
    QVERIFY(!result.config);
    QCOMPARE(paths(result.problems), QStringList{QStringLiteral("$")});
    QCOMPARE(readAll(path), broken);
}

void TestConfig::loadReportsValidationProblems() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QVERIFY(writeAll(path, patched(QStringLiteral("/listen/port"), "0")));
    const ConfigResult result = ConfigFile::load(path, false);
    QCOMPARE(paths(result.problems), QStringList{QStringLiteral("$.listen.port")});
}

void TestConfig::saveRefusesInvalidAndKeepsTheOldFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QVERIFY(writeAll(path, kValid));
    const QString error = ConfigFile::save(path, patched(QStringLiteral("/activeChain"), R"("nope")"));
    QVERIFY(error.contains(QStringLiteral("not saved")));
    QVERIFY2(error.contains(QStringLiteral("$.activeChain: unknown chain \"nope\"")), qPrintable(error));
    QCOMPARE(readAll(path), kValid);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("understudy.json")});

    QVERIFY(!ConfigFile::save(path, "{ not json").isEmpty());
    QCOMPARE(readAll(path), kValid);
}

void TestConfig::saveReplacesAtomically() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QVERIFY(writeAll(path, defaultConfigJson()));
    QCOMPARE(ConfigFile::save(path, kValid), QString());
    QCOMPARE(readAll(path), kValid);
    // QSaveFile's temporary file is renamed over the target, so nothing is left behind but the previous config,
    // kept as the last good one.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
             (QStringList{QStringLiteral("understudy.json"), QStringLiteral("understudy.json.bak")}));
    QCOMPARE(readAll(path + QStringLiteral(".bak")), defaultConfigJson());
    QCOMPARE(ConfigFile::load(path, false).config->activeChain, QStringLiteral("main"));
}

void TestConfig::saveReportsUnwritablePath() {
    QTemporaryDir dir;
    QVERIFY(writeAll(dir.filePath(QStringLiteral("file")), "x"));
    // A path under a regular file can never be created, whatever the user's permissions.
    const QString path = dir.filePath(QStringLiteral("file/understudy.json"));
    const QString error = ConfigFile::save(path, kValid);
    QVERIFY2(error.startsWith(QStringLiteral("cannot ")), qPrintable(error));
    QVERIFY(!QFileInfo::exists(path));
}

void TestConfig::ledgerRetention() {
    QCOMPARE(parseConfig(kValid).config->ledger.retentionDays, 90);  // the default
    const ConfigResult thirty = parseConfig(patched(QStringLiteral("/ledger"), R"({"retentionDays": 30})"));
    QVERIFY2(thirty.config, qPrintable(describe(thirty.problems)));
    QCOMPARE(thirty.config->ledger.retentionDays, 30);
    const ConfigResult forever = parseConfig(patched(QStringLiteral("/ledger"), R"({"retentionDays": 0})"));
    QVERIFY2(forever.config, qPrintable(describe(forever.problems)));
    QCOMPARE(forever.config->ledger.retentionDays, 0);
    const ConfigResult empty = parseConfig(patched(QStringLiteral("/ledger"), "{}"));
    QVERIFY2(empty.config, qPrintable(describe(empty.problems)));
    QCOMPARE(empty.config->ledger.retentionDays, 90);
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
