#pragma once

#include <QList>
#include <QMap>
#include <QPair>
#include <QString>
#include <QUrl>

#include "config/Secrets.h"

#include <memory>
#include <optional>

namespace understudy {

enum class ProviderType { Anthropic, OpenAIChat, OpenAIResponses, Bedrock, Vertex, AzureOpenAI };
QString providerTypeName(ProviderType type);  // the config spelling: "anthropic", "openai-chat", ...

// "client": forward the client's own x-api-key / Authorization. "key": send the provider's stored key.
// "none": send no credential (local servers).
enum class AuthMode { Client, Key, None };

struct ProviderConfig {
    QString id;
    ProviderType type = ProviderType::Anthropic;
    QUrl baseUrl;          // anthropic / openai-*: e.g. https://api.anthropic.com, https://openrouter.ai/api/v1;
                           // never ends in "/", so request paths ("/v1/messages") can be appended as they are
    AuthMode auth = AuthMode::None;
    QString apiKey;        // a secret reference ("env:NAME" / "keychain:NAME"), never the key itself
    bool prefill = true;   // accepts a trailing assistant message
    // Cloud providers (issue: keychain + cloud providers). Kept so --check-config accepts them today.
    QString region, project, endpoint, apiVersion, accessKeyId, secretAccessKey, sessionToken, serviceAccount;
    bool bearerToken = false;  // azure-openai: apiKey refers to an Entra ID token, sent as "Authorization: Bearer"
};

// What a chain step does to the requested model: keep it, replace it, or map it by glob ('*' any run of
// characters, '?' one character, everything else literal, ignoring case).
struct ModelMapping {
    enum class Kind { Keep, Replace, Map };
    Kind kind = Kind::Keep;
    QString model;                           // Replace
    QList<QPair<QString, QString>> globs;    // Map, in file order; first match wins

    // The model to ask this step for; nullopt when a Map has no matching glob (the step is skipped).
    std::optional<QString> apply(const QString& requested) const;
};

// Whether a model name matches a glob of the config ('*' any run, '?' one character, case ignored).
bool globMatches(QStringView glob, QStringView name);

struct StepConfig {
    QString provider;
    ModelMapping model;
    std::optional<bool> prefill;  // overrides the provider's
    // Marks the step paid: once the day's spend on its provider reaches this (USD), the step is skipped until
    // midnight (local time).
    std::optional<double> dailyBudgetUsd;
};

struct ChainConfig {
    QString id;
    QList<StepConfig> steps;
};

struct FailoverConfig {
    QList<int> triggerOnStatusCodes{429, 500, 502, 503, 504, 529};
    int retriesBeforeFailover = 1;
    int maxRetryAfterWaitMs = 3000;
    int connectTimeoutMs = 5000;
    int firstTokenTimeoutMs = 10000;
    int firstTokenTimeoutPer100kTokensMs = 20000;
    int streamIdleTimeoutMs = 30000;
    int totalBudgetMs = 100000;
    int primaryRecoveryCheckIntervalMs = 15000;
    // Pre-emptive switch: a success leaving less than this % of a rate-limit bucket cools the target until the
    // bucket's reset, so the next request goes to the fallback before hitting the wall. 0: off.
    int switchBeforeLimitPercent = 0;
};

struct RerouteConfig {
    QString provider;
    QString model;  // empty: keep the requested model
};

struct ListenConfig {
    QString host = QStringLiteral("127.0.0.1");
    int port = 8790;
    int requestReadTimeoutMs = 30000;  // a client must send a whole request within this
    int maxConnections = 1024;         // open client connections; one more is answered 503 and closed
    QString accessToken;               // a secret reference; when set, every request but /healthz must carry it
};

// Whether `host` (a listen.host value) is this machine's loopback interface only.
bool isLoopbackListenHost(const QString& host);

struct Price {  // USD per million tokens
    double input = 0, output = 0, cacheRead = 0, cacheWrite = 0;
};

// The usage ledger's housekeeping.
struct LedgerConfig {
    int retentionDays = 90;  // rows older than this are deleted (at start and daily); 0 keeps them forever
};

struct Config {
    int version = 1;
    ListenConfig listen;
    QMap<QString, ProviderConfig> providers;
    QMap<QString, ChainConfig> chains;
    QString activeChain;
    QMap<QString, QString> clients;  // client name (e.g. "claude-code", "codex", "opencode") -> chain id
    std::optional<RerouteConfig> reroute;
    FailoverConfig failover;
    QMap<QString, Price> pricing;    // model -> price override
    // Not from the file: the keychain entries its secret references name, read when it was loaded (ProxyHost).
    std::shared_ptr<const KeychainValues> keychain;
    LedgerConfig ledger;
};

struct ConfigProblem {
    QString path;     // JSON path, e.g. "$.providers.zai.apiKey"
    QString message;  // what is wrong and how to fix it
};

struct ConfigResult {
    std::optional<Config> config;  // set only when problems is empty
    QList<ConfigProblem> problems;
    QList<ConfigProblem> warnings;  // valid but probably not what was meant
};

// Parses and validates a config document. Every problem is reported (not just the first), each with its path.
ConfigResult parseConfig(const QByteArray& json);

// The config written on first run: Anthropic with the client's own credentials, no fallback.
QByteArray defaultConfigJson();

}  // namespace understudy
