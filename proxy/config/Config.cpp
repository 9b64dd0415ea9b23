#include "config/Config.h"

#include "config/Secrets.h"
#include "providers/Azure.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <algorithm>
#include <cmath>
#include <limits>

namespace understudy {

namespace {

// ---------------------------------------------------------------------------------------------- names and paths

struct ProviderTypeSpelling {
    ProviderType type;
    const char* name;
};

constexpr ProviderTypeSpelling kProviderTypes[] = {
    {ProviderType::Anthropic, "anthropic"},
    {ProviderType::OpenAIChat, "openai-chat"},
    {ProviderType::OpenAIResponses, "openai-responses"},
    {ProviderType::Bedrock, "bedrock"},
    {ProviderType::Vertex, "vertex"},
    {ProviderType::AzureOpenAI, "azure-openai"},
};

struct FailoverInt {
    const char* key;
    int FailoverConfig::*member;
    int minimum;  // timeouts and intervals must be positive: zero would fail every attempt or probe constantly
    int maximum = std::numeric_limits<int>::max();
};

// One table drives validation and the default file, so the two cannot drift apart.
constexpr FailoverInt kFailoverInts[] = {
    {"retriesBeforeFailover", &FailoverConfig::retriesBeforeFailover, 0},
    {"maxRetryAfterWaitMs", &FailoverConfig::maxRetryAfterWaitMs, 0},
    {"connectTimeoutMs", &FailoverConfig::connectTimeoutMs, 1},
    {"firstTokenTimeoutMs", &FailoverConfig::firstTokenTimeoutMs, 1},
    {"firstTokenTimeoutPer100kTokensMs", &FailoverConfig::firstTokenTimeoutPer100kTokensMs, 0},
    {"streamIdleTimeoutMs", &FailoverConfig::streamIdleTimeoutMs, 1},
    {"totalBudgetMs", &FailoverConfig::totalBudgetMs, 1},
    {"primaryRecoveryCheckIntervalMs", &FailoverConfig::primaryRecoveryCheckIntervalMs, 1},
    {"switchBeforeLimitPercent", &FailoverConfig::switchBeforeLimitPercent, 0, 99},
};

bool isAsciiAlphanumeric(QChar c) {
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9');
}

// Provider and chain ids appear in URL paths (/chains/<id>), so they keep to characters that need no escaping.
bool isValidId(const QString& id) {
    return !id.isEmpty() && std::all_of(id.begin(), id.end(), [](QChar c) {
        return isAsciiAlphanumeric(c) || c == u'.' || c == u'_' || c == u'-';
    });
}

// "$.providers.zai" for plain keys. Keys with other characters (globs, "qwen/qwen3-coder", "glm-4.5") are quoted,
// $.pricing["glm-4.5"], so that a path always names exactly one place.
QString childPath(const QString& parent, const QString& key) {
    const bool plain = !key.isEmpty() && std::all_of(key.begin(), key.end(), [](QChar c) {
        return isAsciiAlphanumeric(c) || c == u'_' || c == u'-';
    });
    if (plain)
        return parent + u'.' + key;
    QString escaped = key;
    escaped.replace(u'\\', QStringLiteral("\\\\")).replace(u'"', QStringLiteral("\\\""));
    return parent + QStringLiteral("[\"") + escaped + QStringLiteral("\"]");
}

QString indexPath(const QString& parent, qsizetype index) {
    return parent + u'[' + QString::number(index) + u']';
}

// ---------------------------------------------------------------------------------------------- key order

// QJsonObject sorts its keys and keeps only the last of duplicates, but order matters in a model map (first match
// wins) and a duplicate is a mistake worth reporting. This walks the raw text, which QJsonDocument has already
// accepted, and records every object's keys as written, by JSON path.
class KeyOrder {
public:
    explicit KeyOrder(const QByteArray& json) : m_text(json) {
        if (m_text.startsWith("\xEF\xBB\xBF"))  // a byte order mark, which QJsonDocument skips too
            m_pos = 3;
        value(QStringLiteral("$"));
    }

    QStringList keys(const QString& path) const { return m_keys.value(path); }

private:
    char peek() const { return m_pos < m_text.size() ? m_text.at(m_pos) : '\0'; }

    void skipSpace() {
        while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')
            ++m_pos;
    }

    void value(const QString& path) {
        skipSpace();
        switch (peek()) {
        case '{': object(path); break;
        case '[': array(path); break;
        case '"': string(); break;
        default:  // a number, true, false or null
            do
                ++m_pos;
            while (m_pos < m_text.size() && !QByteArrayView(",]} \t\r\n").contains(m_text.at(m_pos)));
        }
    }

    void object(const QString& path) {
        ++m_pos;
        // Starting afresh matters for a repeated key: its last value is the one QJsonObject keeps.
        m_keys[path] = QStringList();
        skipSpace();
        while (peek() == '"') {
            const QString key = string();
            skipSpace();
            ++m_pos;  // ':'
            m_keys[path].append(key);
            value(childPath(path, key));
            skipSpace();
            if (peek() != ',')
                break;
            ++m_pos;
            skipSpace();
        }
        ++m_pos;  // '}'
    }

    void array(const QString& path) {
        ++m_pos;
        skipSpace();
        for (qsizetype index = 0; peek() != ']' && peek() != '\0'; ++index) {
            value(indexPath(path, index));
            skipSpace();
            if (peek() == ',')
                ++m_pos;
        }
        ++m_pos;  // ']'
    }

    QString string() {
        const qsizetype start = m_pos++;
        bool escaped = false;
        while (m_pos < m_text.size() && m_text.at(m_pos) != '"') {
            escaped = escaped || m_text.at(m_pos) == '\\';
            m_pos += m_text.at(m_pos) == '\\' ? 2 : 1;
        }
        ++m_pos;
        const QByteArray literal = m_text.mid(start, m_pos - start);
        if (!escaped)
            return QString::fromUtf8(literal.mid(1, literal.size() - 2));
        // Let the parser that read the document decode \uXXXX and friends, so both agree on every key.
        return QJsonDocument::fromJson('[' + literal + ']').array().first().toString();
    }

    QByteArray m_text;
    qsizetype m_pos = 0;
    QHash<QString, QStringList> m_keys;
};

// ---------------------------------------------------------------------------------------------- messages

// Edit distance counting a swap of neighbours as one edit ("mian" is one typo from "main"), ignoring case
// ("baseURL" is as close to "baseUrl" as a key can be).
qsizetype editDistance(const QString& a, const QString& b) {
    const QString x = a.toCaseFolded(), y = b.toCaseFolded();
    const qsizetype columns = y.size() + 1;
    QList<qsizetype> d((x.size() + 1) * columns);
    const auto at = [&](qsizetype i, qsizetype j) -> qsizetype& { return d[i * columns + j]; };
    for (qsizetype i = 0; i <= x.size(); ++i)
        at(i, 0) = i;
    for (qsizetype j = 0; j <= y.size(); ++j)
        at(0, j) = j;
    for (qsizetype i = 1; i <= x.size(); ++i) {
        for (qsizetype j = 1; j <= y.size(); ++j) {
            at(i, j) =
                std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (x[i - 1] == y[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1])
                at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
        }
    }
    return at(x.size(), y.size());
}

// The candidate a typo most likely meant, or empty when none is close enough to be a useful guess.
QString closest(const QString& word, const QStringList& candidates) {
    QString best;
    qsizetype bestDistance = std::numeric_limits<qsizetype>::max();
    for (const QString& candidate : candidates) {
        const qsizetype distance = editDistance(word, candidate);
        if (distance < bestDistance && distance <= std::max<qsizetype>(1, candidate.size() / 3)) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return best;
}

QString quotedList(const QStringList& words) {
    QStringList quoted;
    for (const QString& word : words)
        quoted.append(u'"' + word + u'"');
    return quoted.join(QStringLiteral(", "));
}

// Appends the likely intended word, or when nothing is close, every accepted one.
QString withSuggestion(const QString& what, const QString& word, const QStringList& candidates) {
    if (const QString guess = closest(word, candidates); !guess.isEmpty())
        return QStringLiteral("%1; did you mean \"%2\"?").arg(what, guess);
    return QStringLiteral("%1; expected one of %2").arg(what, quotedList(candidates));
}

QString describe(const QJsonValue& value) {
    switch (value.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

QString expected(const QString& what, const QJsonValue& actual) {
    return QStringLiteral("expected %1, got %2").arg(what, describe(actual));
}

// Never shows the value: whatever is in the field may be a real key pasted in by mistake.
QString secretShapeProblem(const QString& key, const QString& reference) {
    if (reference.startsWith(u"env:"))
        return QStringLiteral(
            "\"env:\" must be followed by an environment variable name "
            "(letters, digits and \"_\", not starting with a digit)");
    if (reference.startsWith(u"keychain:"))
        return QStringLiteral("\"keychain:\" must be followed by the name of a keychain entry");
    return QStringLiteral(
               "%1 must be a secret reference, \"env:NAME\" (an environment variable) or \"keychain:NAME\" "
               "(an OS keychain entry), never the secret itself; move the secret there and refer to it "
               "(the value is not shown here)")
        .arg(key);
}

// ---------------------------------------------------------------------------------------------- validation

// A value in the document with where it came from. `value` is Undefined when the key is absent.
struct Field {
    QJsonValue value;
    QString path;
    QString key;

    bool present() const { return !value.isUndefined(); }
};

Field field(const QJsonObject& object, const QString& objectPath, const QString& key) {
    return {object.value(key), childPath(objectPath, key), key};
}

QStringList providerKeys(ProviderType type) {
    switch (type) {
    case ProviderType::Anthropic:
    case ProviderType::OpenAIChat:
    case ProviderType::OpenAIResponses: return {"type", "baseUrl", "auth", "apiKey", "prefill"};
    case ProviderType::Bedrock:
        return {"type", "region", "accessKeyId", "secretAccessKey", "sessionToken", "endpoint", "prefill"};
    case ProviderType::Vertex: return {"type", "project", "region", "serviceAccount", "baseUrl", "prefill"};
    case ProviderType::AzureOpenAI: return {"type", "endpoint", "apiVersion", "apiKey", "bearerToken", "prefill"};
    }
    return {};
}

QStringList allProviderKeys() {
    QStringList keys;
    for (const ProviderTypeSpelling& spelling : kProviderTypes)
        for (const QString& key : providerKeys(spelling.type))
            if (!keys.contains(key))
                keys.append(key);
    return keys;
}

// Walks the document once, collecting every problem; the Config it builds is only handed out when there are none,
// so each reader may leave a field at its default after reporting.
class Validator {
public:
    Validator(const QJsonObject& root, const QByteArray& json) : m_root(root), m_order(json) {}

    ConfigResult run() {
        Config config;
        checkKeys(QStringLiteral("$"), {"version", "listen", "providers", "chains", "activeChain", "clients", "reroute",
                                        "failover", "pricing", "ledger"});
        readVersion();
        readListen(config.listen);
        readProviders(config.providers);
        readChains(config.chains);
        readActiveChain(config.activeChain);
        readClients(config.clients);
        readReroute(config.reroute);
        readFailover(config.failover);
        readPricing(config.pricing);
        readLedger(config.ledger);
        if (m_problems.isEmpty())
            return {config, {}, m_warnings};
        return {std::nullopt, m_problems, m_warnings};
    }

private:
    void report(const QString& path, const QString& message) { m_problems.append({path, message}); }

    Field rootField(const char* key) const { return field(m_root, QStringLiteral("$"), QString::fromLatin1(key)); }

    // ------------------------------------------------------------------ keys

    // The keys of the object at `path` in file order, each once; a repeated key is reported.
    QStringList keysAt(const QString& path) {
        QStringList unique;
        for (const QString& key : m_order.keys(path)) {
            if (!unique.contains(key))
                unique.append(key);
            else
                report(childPath(path, key),
                       QStringLiteral("key \"%1\" appears more than once and only the last one would count; keep one")
                           .arg(key));
        }
        return unique;
    }

    void checkKeys(const QString& path, const QStringList& allowed) {
        for (const QString& key : keysAt(path))
            if (!allowed.contains(key))
                report(childPath(path, key),
                       withSuggestion(QStringLiteral("unknown key \"%1\"").arg(key), key, allowed));
    }

    // ------------------------------------------------------------------ typed reads
    // Each returns nullopt, silently, when the field is absent, and after reporting when it is malformed.

    bool require(const Field& f) {
        if (!f.present())
            report(f.path, QStringLiteral("\"%1\" is required").arg(f.key));
        return f.present();
    }

    std::optional<QJsonObject> object(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isObject()) {
            report(f.path, expected(QStringLiteral("an object"), f.value));
            return std::nullopt;
        }
        return f.value.toObject();
    }

    std::optional<QJsonArray> array(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isArray()) {
            report(f.path, expected(QStringLiteral("an array"), f.value));
            return std::nullopt;
        }
        return f.value.toArray();
    }

    std::optional<bool> boolean(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isBool()) {
            report(f.path, expected(QStringLiteral("true or false"), f.value));
            return std::nullopt;
        }
        return f.value.toBool();
    }

    std::optional<QString> text(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isString()) {
            report(f.path, expected(QStringLiteral("a string"), f.value));
            return std::nullopt;
        }
        if (f.value.toString().isEmpty()) {
            report(f.path, QStringLiteral("must not be empty"));
            return std::nullopt;
        }
        return f.value.toString();
    }

    QString requiredText(const Field& f) { return require(f) ? text(f).value_or(QString()) : QString(); }

    std::optional<int> integer(const Field& f, int minimum, int maximum = std::numeric_limits<int>::max()) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isDouble()) {
            report(f.path, expected(QStringLiteral("a whole number"), f.value));
            return std::nullopt;
        }
        const double number = f.value.toDouble();
        if (number != std::floor(number)) {
            report(f.path, QStringLiteral("expected a whole number, got %1").arg(number));
            return std::nullopt;
        }
        if (number < minimum || number > maximum) {
            const QString range = maximum == std::numeric_limits<int>::max()
                                      ? QStringLiteral("must be %1 or more").arg(minimum)
                                      : QStringLiteral("must be between %1 and %2").arg(minimum).arg(maximum);
            report(f.path, QStringLiteral("%1, got %2").arg(range).arg(number));
            return std::nullopt;
        }
        return static_cast<int>(number);
    }

    std::optional<double> price(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isDouble()) {
            report(f.path, expected(QStringLiteral("a number (USD per million tokens)"), f.value));
            return std::nullopt;
        }
        if (f.value.toDouble() < 0) {
            report(f.path, QStringLiteral("must be 0 or more, got %1").arg(f.value.toDouble()));
            return std::nullopt;
        }
        return f.value.toDouble();
    }

    std::optional<QUrl> httpUrl(const Field& f) {
        const std::optional<QString> written = text(f);
        if (!written)
            return std::nullopt;
        QUrl url(*written, QUrl::StrictMode);
        const bool http = url.scheme() == u"http" || url.scheme() == u"https";
        if (!url.isValid() || !http || url.host().isEmpty()) {
            report(f.path,
                   QStringLiteral("must be an absolute http:// or https:// URL, e.g. https://api.anthropic.com"));
            return std::nullopt;
        }
        // The URL itself is not echoed: a user name and password in it would be a secret in the file.
        if (!url.userInfo().isEmpty()) {
            report(f.path, QStringLiteral("must not contain a user name or password; credentials belong in a "
                                          "secret reference (\"env:NAME\" or \"keychain:NAME\")"));
            return std::nullopt;
        }
        if (url.hasQuery() || url.hasFragment()) {
            report(f.path, QStringLiteral("must not have a ?query or #fragment: request paths are appended to it"));
            return std::nullopt;
        }
        // Request paths are appended with their own leading "/"; "https://api.anthropic.com/" is a common spelling.
        if (url.path().endsWith(u'/'))
            url.setPath(url.path().chopped(1));
        return url;
    }

    std::optional<QString> secretReference(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isString()) {
            report(f.path, expected(QStringLiteral("a secret reference (\"env:NAME\" or \"keychain:NAME\")"), f.value));
            return std::nullopt;
        }
        if (!isSecretReference(f.value.toString())) {
            report(f.path, secretShapeProblem(f.key, f.value.toString()));
            return std::nullopt;
        }
        return f.value.toString();
    }

    QString requiredSecret(const Field& f) { return require(f) ? secretReference(f).value_or(QString()) : QString(); }

    // ------------------------------------------------------------------ references between sections

    // `known` is nullopt when the section it comes from was itself unusable, which has been reported already:
    // every reference into it failing as well would only bury that one problem.
    void checkReference(const Field& f, const QString& name, const std::optional<QStringList>& known,
                        const QString& kind) {
        if (!known || known->contains(name))
            return;
        const QString what = QStringLiteral("unknown %1 \"%2\"").arg(kind, name);
        if (known->isEmpty())
            report(f.path, QStringLiteral("%1; no %2s are defined").arg(what, kind));
        else
            report(f.path, withSuggestion(what, name, *known));
    }

    void checkId(const QString& id, const QString& path, const QString& kind) {
        if (!isValidId(id))
            report(path, QStringLiteral("%1 id \"%2\" may only contain letters, digits, \".\", \"_\" and \"-\" "
                                        "(it appears in URLs such as /chains/<id>)")
                             .arg(kind, id));
    }

    // ------------------------------------------------------------------ sections

    void readVersion() {
        const Field f = rootField("version");
        const std::optional<int> version = integer(f, std::numeric_limits<int>::min());
        if (version && *version > 1)
            report(f.path, QStringLiteral("this file is config version %1, from a newer Understudy; this build reads "
                                          "version 1")
                               .arg(*version));
        else if (version && *version < 1)
            report(f.path, QStringLiteral("unsupported version %1; the current version is 1").arg(*version));
    }

    void readListen(ListenConfig& listen) {
        const Field f = rootField("listen");
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return;
        checkKeys(f.path, {"host", "port", "requestReadTimeoutMs", "maxConnections", "accessToken"});
        if (const std::optional<QString> host = text(field(*object, f.path, QStringLiteral("host"))))
            listen.host = *host;
        if (const std::optional<int> port = integer(field(*object, f.path, QStringLiteral("port")), 1, 65535))
            listen.port = *port;
        if (const std::optional<int> timeout =
                integer(field(*object, f.path, QStringLiteral("requestReadTimeoutMs")), 100, 600000))
            listen.requestReadTimeoutMs = *timeout;
        if (const std::optional<int> cap = integer(field(*object, f.path, QStringLiteral("maxConnections")), 1, 65536))
            listen.maxConnections = *cap;
        if (const std::optional<QString> token = secretReference(field(*object, f.path, QStringLiteral("accessToken"))))
            listen.accessToken = *token;
        checkExposure(listen, f.path);
    }

    // Off loopback, anyone who can reach the port could spend the user's keys: only the token keeps them out.
    void checkExposure(const ListenConfig& listen, const QString& path) {
        if (isLoopbackListenHost(listen.host) || !listen.accessToken.isEmpty())
            return;
        report(childPath(path, QStringLiteral("host")),
               QStringLiteral("\"%1\" is reachable from other machines, so it needs an access token: add "
                              "\"accessToken\": \"env:NAME\" (or \"keychain:NAME\") to \"listen\", or listen on "
                              "127.0.0.1")
                   .arg(listen.host));
    }

    void readProviders(QMap<QString, ProviderConfig>& providers) {
        const Field f = rootField("providers");
        const std::optional<QJsonObject> object = this->object(f);
        if (!object) {
            if (f.present())
                m_providerIds.reset();
            return;
        }
        for (const QString& id : keysAt(f.path)) {
            m_providerIds->append(id);
            const Field entry = field(*object, f.path, id);
            checkId(id, entry.path, QStringLiteral("provider"));
            providers.insert(id, provider(id, entry));
        }
    }

    ProviderConfig provider(const QString& id, const Field& f) {
        ProviderConfig provider;
        provider.id = id;
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return provider;
        const std::optional<ProviderType> type = providerType(field(*object, f.path, QStringLiteral("type")));
        checkProviderKeys(f.path, type);
        if (!type)
            return provider;
        provider.type = *type;
        if (const std::optional<bool> prefill = boolean(field(*object, f.path, QStringLiteral("prefill"))))
            provider.prefill = *prefill;
        switch (*type) {
        case ProviderType::Anthropic:
        case ProviderType::OpenAIChat:
        case ProviderType::OpenAIResponses: readHttpProvider(*object, f.path, provider); break;
        case ProviderType::Bedrock: readBedrock(*object, f.path, provider); break;
        case ProviderType::Vertex: readVertex(*object, f.path, provider); break;
        case ProviderType::AzureOpenAI: readAzure(*object, f.path, provider); break;
        }
        return provider;
    }

    std::optional<ProviderType> providerType(const Field& f) {
        if (!require(f))
            return std::nullopt;
        const std::optional<QString> name = text(f);
        if (!name)
            return std::nullopt;
        QStringList names;
        for (const ProviderTypeSpelling& spelling : kProviderTypes) {
            if (*name == QLatin1String(spelling.name))
                return spelling.type;
            names.append(QString::fromLatin1(spelling.name));
        }
        report(f.path, withSuggestion(QStringLiteral("unknown provider type \"%1\"").arg(*name), *name, names));
        return std::nullopt;
    }

    // Without a type, keys are checked against every provider type's, so typos are still caught.
    void checkProviderKeys(const QString& path, const std::optional<ProviderType>& type) {
        const QStringList allowed = type ? providerKeys(*type) : allProviderKeys();
        for (const QString& key : keysAt(path)) {
            if (allowed.contains(key))
                continue;
            if (allProviderKeys().contains(key))
                report(childPath(path, key),
                       QStringLiteral("\"%1\" does not apply to providers of type \"%2\", which take %3")
                           .arg(key, providerTypeName(*type), quotedList(allowed)));
            else
                report(childPath(path, key),
                       withSuggestion(QStringLiteral("unknown key \"%1\"").arg(key), key, allowed));
        }
    }

    void readHttpProvider(const QJsonObject& object, const QString& path, ProviderConfig& provider) {
        const Field baseUrl = field(object, path, QStringLiteral("baseUrl"));
        if (require(baseUrl))
            provider.baseUrl = httpUrl(baseUrl).value_or(QUrl());
        const Field apiKey = field(object, path, QStringLiteral("apiKey"));
        provider.apiKey = secretReference(apiKey).value_or(QString());
        const Field auth = field(object, path, QStringLiteral("auth"));
        const std::optional<AuthMode> mode = authMode(auth);
        provider.auth = mode.value_or(apiKey.present() ? AuthMode::Key : AuthMode::None);
        if (mode == AuthMode::Key && !apiKey.present())
            report(apiKey.path, QStringLiteral("\"apiKey\" is required with auth \"key\": "
                                               "write \"env:NAME\" or \"keychain:NAME\""));
        if (mode && *mode != AuthMode::Key && apiKey.present())
            report(auth.path,
                   QStringLiteral("auth \"%1\" %2, so apiKey would never be sent; remove apiKey, or set "
                                  "auth to \"key\" to use it")
                       .arg(auth.value.toString(), *mode == AuthMode::Client
                                                       ? QStringLiteral("forwards the client's own credentials")
                                                       : QStringLiteral("sends no credentials")));
    }

    std::optional<AuthMode> authMode(const Field& f) {
        const std::optional<QString> name = text(f);
        if (!name)
            return std::nullopt;
        if (*name == u"client")
            return AuthMode::Client;
        if (*name == u"key")
            return AuthMode::Key;
        if (*name == u"none")
            return AuthMode::None;
        report(f.path,
               withSuggestion(QStringLiteral("unknown auth \"%1\"").arg(*name), *name, {"client", "key", "none"}));
        return std::nullopt;
    }

    // Cloud providers always authenticate with their own stored credentials, never the client's.
    void readBedrock(const QJsonObject& object, const QString& path, ProviderConfig& provider) {
        provider.auth = AuthMode::Key;
        provider.region = requiredText(field(object, path, QStringLiteral("region")));
        provider.accessKeyId = requiredSecret(field(object, path, QStringLiteral("accessKeyId")));
        provider.secretAccessKey = requiredSecret(field(object, path, QStringLiteral("secretAccessKey")));
        provider.sessionToken =
            secretReference(field(object, path, QStringLiteral("sessionToken"))).value_or(QString());
        // A VPC (PrivateLink) endpoint, or a mock in tests; by default bedrock-runtime.<region>.amazonaws.com.
        const Field endpoint = field(object, path, QStringLiteral("endpoint"));
        if (endpoint.present())
            provider.endpoint = httpUrl(endpoint).value_or(QUrl()).toString();
    }

    void readVertex(const QJsonObject& object, const QString& path, ProviderConfig& provider) {
        provider.auth = AuthMode::Key;
        provider.project = requiredText(field(object, path, QStringLiteral("project")));
        provider.region = requiredText(field(object, path, QStringLiteral("region")));
        provider.serviceAccount = requiredSecret(field(object, path, QStringLiteral("serviceAccount")));
        const Field baseUrl = field(object, path, QStringLiteral("baseUrl"));  // e.g. a Private Service Connect host
        if (baseUrl.present())
            provider.baseUrl = httpUrl(baseUrl).value_or(QUrl());
    }

    // The endpoint is whatever URL the Azure portal showed: the deployment and api-version may come with it.
    void readAzure(const QJsonObject& object, const QString& path, ProviderConfig& provider) {
        provider.auth = AuthMode::Key;
        const Field endpoint = field(object, path, QStringLiteral("endpoint"));
        const Field apiVersion = field(object, path, QStringLiteral("apiVersion"));
        provider.apiVersion = text(apiVersion).value_or(QString());
        const std::optional<QString> pasted = require(endpoint) ? text(endpoint) : std::nullopt;
        if (pasted) {
            const azure::Endpoint parsed = azure::parseEndpoint(*pasted);
            provider.endpoint = *pasted;
            if (!parsed.error.isEmpty())
                report(endpoint.path, parsed.error);
            else if (!provider.apiVersion.isEmpty() && !parsed.apiVersion.isEmpty() && provider.apiVersion != parsed.apiVersion)
                report(apiVersion.path, QStringLiteral("\"%1\" differs from the endpoint's api-version \"%2\"; keep one")
                                            .arg(provider.apiVersion, parsed.apiVersion));
            else if (provider.apiVersion.isEmpty() && parsed.apiVersion.isEmpty() && !parsed.v1)
                report(apiVersion.path, QStringLiteral("\"apiVersion\" is required with this endpoint, e.g. "
                                                       "\"2024-10-21\"; or use the v1 endpoint "
                                                       "https://<resource>.openai.azure.com/openai/v1/, which needs none"));
            if (provider.apiVersion.isEmpty())
                provider.apiVersion = parsed.apiVersion;
        }
        // An Entra ID access token instead of a key: sent as "Authorization: Bearer", not "api-key".
        const Field apiKey = field(object, path, QStringLiteral("apiKey"));
        const Field bearer = field(object, path, QStringLiteral("bearerToken"));
        if (apiKey.present() == bearer.present())
            report(apiKey.path, QStringLiteral("write exactly one of \"apiKey\" (the resource's key) and \"bearerToken\" "
                                               "(a Microsoft Entra ID token), as \"env:NAME\" or \"keychain:NAME\""));
        provider.bearerToken = bearer.present();
        provider.apiKey = secretReference(bearer.present() ? bearer : apiKey).value_or(QString());
    }

    void readChains(QMap<QString, ChainConfig>& chains) {
        const Field f = rootField("chains");
        const std::optional<QJsonObject> object = this->object(f);
        if (f.present() && !object)
            return;
        if (!object || object->isEmpty()) {
            report(f.path,
                   QStringLiteral("at least one chain is required, e.g. "
                                  "\"chains\": { \"default\": { \"steps\": [ { \"provider\": \"anthropic\" } ] } }"));
            return;
        }
        m_chainIds = QStringList();
        for (const QString& id : keysAt(f.path)) {
            m_chainIds->append(id);
            const Field entry = field(*object, f.path, id);
            checkId(id, entry.path, QStringLiteral("chain"));
            chains.insert(id, chain(id, entry));
        }
    }

    ChainConfig chain(const QString& id, const Field& f) {
        ChainConfig chain;
        chain.id = id;
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return chain;
        checkKeys(f.path, {"steps"});
        const Field steps = field(*object, f.path, QStringLiteral("steps"));
        const std::optional<QJsonArray> array = require(steps) ? this->array(steps) : std::nullopt;
        if (!array)
            return chain;
        if (array->isEmpty())
            report(steps.path, QStringLiteral("a chain needs at least one step, e.g. { \"provider\": \"anthropic\" }"));
        for (qsizetype i = 0; i < array->size(); ++i)
            chain.steps.append(step({array->at(i), indexPath(steps.path, i), QStringLiteral("step")}));
        return chain;
    }

    StepConfig step(const Field& f) {
        StepConfig step;
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return step;
        checkKeys(f.path, {"provider", "model", "prefill", "dailyBudgetUsd"});
        const Field provider = field(*object, f.path, QStringLiteral("provider"));
        step.provider = requiredText(provider);
        if (!step.provider.isEmpty())
            checkReference(provider, step.provider, m_providerIds, QStringLiteral("provider"));
        step.model = modelMapping(field(*object, f.path, QStringLiteral("model")));
        step.prefill = boolean(field(*object, f.path, QStringLiteral("prefill")));
        step.dailyBudgetUsd = dailyBudget(field(*object, f.path, QStringLiteral("dailyBudgetUsd")));
        return step;
    }

    std::optional<double> dailyBudget(const Field& f) {
        if (!f.present())
            return std::nullopt;
        if (!f.value.isDouble() || f.value.toDouble() <= 0) {
            report(f.path, expected(QStringLiteral("a positive number of US dollars a day, e.g. 5"), f.value));
            return std::nullopt;
        }
        return f.value.toDouble();
    }

    ModelMapping modelMapping(const Field& f) {
        ModelMapping mapping;
        if (!f.present())
            return mapping;
        if (f.value.isString()) {
            mapping.kind = ModelMapping::Kind::Replace;
            mapping.model = text(f).value_or(QString());
            return mapping;
        }
        if (!f.value.isObject()) {
            report(f.path,
                   expected(QStringLiteral("a model name or an object mapping model globs to models"), f.value));
            return mapping;
        }
        mapping.kind = ModelMapping::Kind::Map;
        mapping.globs = globs(f);
        return mapping;
    }

    QList<QPair<QString, QString>> globs(const Field& f) {
        const QJsonObject map = f.value.toObject();
        const QStringList patterns = keysAt(f.path);
        if (patterns.isEmpty())
            report(f.path, QStringLiteral("an empty model map matches nothing; add globs such as { \"*\": \"model\" }, "
                                          "or remove \"model\" to keep the requested model"));
        QList<QPair<QString, QString>> globs;
        QString catchAll;  // once a glob matches everything, the ones below it can never be reached
        for (const QString& pattern : patterns) {
            const Field target = field(map, f.path, pattern);
            if (pattern.isEmpty())
                report(target.path, QStringLiteral("a glob must not be empty; \"*\" matches every model"));
            else if (!catchAll.isEmpty())
                report(target.path, QStringLiteral("glob \"%1\" is never used because \"%2\" above it matches every "
                                                   "model (the first match wins); move it above \"%2\"")
                                        .arg(pattern, catchAll));
            else if (std::all_of(pattern.begin(), pattern.end(), [](QChar c) { return c == u'*'; }))
                catchAll = pattern;
            globs.append({pattern, text(target).value_or(QString())});
        }
        return globs;
    }

    void readActiveChain(QString& activeChain) {
        const Field f = rootField("activeChain");
        if (!f.present()) {
            if (m_chainIds && !m_chainIds->isEmpty())
                report(f.path, QStringLiteral("\"activeChain\" is required: the chain used when no other rule picks "
                                              "one, one of %1")
                                   .arg(quotedList(*m_chainIds)));
            return;
        }
        activeChain = text(f).value_or(QString());
        if (!activeChain.isEmpty())
            checkReference(f, activeChain, m_chainIds, QStringLiteral("chain"));
    }

    void readClients(QMap<QString, QString>& clients) {
        const Field f = rootField("clients");
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return;
        for (const QString& client : keysAt(f.path)) {
            const Field entry = field(*object, f.path, client);
            if (client.isEmpty())
                report(entry.path, QStringLiteral("a client name must not be empty"));
            const QString chain = text(entry).value_or(QString());
            // A missing chain here is survivable (the client falls back to activeChain), so it only warns:
            // a chain can be mapped before it is written.
            if (!chain.isEmpty() && m_chainIds && !m_chainIds->contains(chain))
                m_warnings.append({entry.path, QStringLiteral("unknown chain \"%1\"; requests from %2 use the active "
                                                              "chain until a chain of that name exists")
                                                   .arg(chain, client)});
            clients.insert(client, chain);
        }
    }

    void readReroute(std::optional<RerouteConfig>& reroute) {
        const Field f = rootField("reroute");
        if (!f.present() || f.value.isNull())
            return;
        if (!f.value.isObject()) {
            report(f.path,
                   expected(QStringLiteral("null or an object { \"provider\": ..., \"model\": ... }"), f.value));
            return;
        }
        const QJsonObject object = f.value.toObject();
        checkKeys(f.path, {"provider", "model"});
        RerouteConfig rerouteTo;
        const Field provider = field(object, f.path, QStringLiteral("provider"));
        rerouteTo.provider = requiredText(provider);
        if (!rerouteTo.provider.isEmpty())
            checkReference(provider, rerouteTo.provider, m_providerIds, QStringLiteral("provider"));
        rerouteTo.model = text(field(object, f.path, QStringLiteral("model"))).value_or(QString());
        reroute = rerouteTo;
    }

    void readFailover(FailoverConfig& failover) {
        const Field f = rootField("failover");
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return;
        QStringList allowed{"triggerOnStatusCodes"};
        for (const FailoverInt& setting : kFailoverInts)
            allowed.append(QString::fromLatin1(setting.key));
        checkKeys(f.path, allowed);
        for (const FailoverInt& setting : kFailoverInts)
            if (const std::optional<int> value =
                    integer(field(*object, f.path, QString::fromLatin1(setting.key)), setting.minimum, setting.maximum))
                failover.*setting.member = *value;
        const Field codes = field(*object, f.path, QStringLiteral("triggerOnStatusCodes"));
        if (const std::optional<QJsonArray> array = this->array(codes)) {
            failover.triggerOnStatusCodes.clear();
            for (qsizetype i = 0; i < array->size(); ++i)
                if (const std::optional<int> code =
                        integer({array->at(i), indexPath(codes.path, i), QStringLiteral("status")}, 400, 599))
                    failover.triggerOnStatusCodes.append(*code);
        }
    }

    void readPricing(QMap<QString, Price>& pricing) {
        const Field f = rootField("pricing");
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return;
        for (const QString& model : keysAt(f.path)) {
            const Field entry = field(*object, f.path, model);
            if (model.isEmpty())
                report(entry.path, QStringLiteral("a model name must not be empty"));
            const std::optional<QJsonObject> prices = this->object(entry);
            if (!prices)
                continue;
            checkKeys(entry.path, {"input", "output", "cacheRead", "cacheWrite"});
            Price modelPrice;
            const Field input = field(*prices, entry.path, QStringLiteral("input"));
            const Field output = field(*prices, entry.path, QStringLiteral("output"));
            if (require(input))
                modelPrice.input = price(input).value_or(0);
            if (require(output))
                modelPrice.output = price(output).value_or(0);
            modelPrice.cacheRead = price(field(*prices, entry.path, QStringLiteral("cacheRead"))).value_or(0);
            modelPrice.cacheWrite = price(field(*prices, entry.path, QStringLiteral("cacheWrite"))).value_or(0);
            pricing.insert(model, modelPrice);
        }
    }

    void readLedger(LedgerConfig& ledger) {
        const Field f = rootField("ledger");
        const std::optional<QJsonObject> object = this->object(f);
        if (!object)
            return;
        checkKeys(f.path, {"retentionDays"});
        if (const std::optional<int> days = integer(field(*object, f.path, QStringLiteral("retentionDays")), 0))
            ledger.retentionDays = *days;
    }

    QJsonObject m_root;
    KeyOrder m_order;
    QList<ConfigProblem> m_problems;
    QList<ConfigProblem> m_warnings;
    std::optional<QStringList> m_providerIds = QStringList();  // nullopt: "providers" is not an object
    std::optional<QStringList> m_chainIds;                     // nullopt: "chains" is missing or unusable
};

// "line 3, column 7 (byte 42)": the byte offset alone is hard to find in an editor.
QString position(const QByteArray& json, qsizetype offset) {
    const QByteArray before = json.left(offset);
    const qsizetype line = before.count('\n') + 1;
    const qsizetype column = QString::fromUtf8(before.mid(before.lastIndexOf('\n') + 1)).size() + 1;
    return QStringLiteral("line %1, column %2 (byte %3)").arg(line).arg(column).arg(offset);
}

}  // namespace

// '*' matches any run of characters and '?' exactly one. Case is ignored: the same model is written
// "claude-3-5-haiku" by one client and "Claude-3-5-Haiku" by another, and no two real models differ only by case.
// By hand, not with QHostAddress: the config library needs only Qt Core.
bool isLoopbackListenHost(const QString& host) {
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0 || host == QLatin1String("::1"))
        return true;
    const QStringList parts = host.split(u'.');
    if (parts.size() != 4 || parts.first() != QLatin1String("127"))
        return false;
    return std::all_of(parts.begin(), parts.end(), [](const QString& part) {
        bool ok = false;
        const int value = part.toInt(&ok);
        return ok && value >= 0 && value <= 255 && !part.startsWith(u'+');
    });
}

bool globMatches(QStringView glob, QStringView name) {
    qsizetype g = 0, n = 0;
    qsizetype starGlob = -1, starName = 0;  // where the last '*' was, to retry with it swallowing one more character
    while (n < name.size()) {
        if (g < glob.size() && glob[g] == u'*') {
            starGlob = g++;
            starName = n;
        } else if (g < glob.size() && (glob[g] == u'?' || glob[g].toCaseFolded() == name[n].toCaseFolded())) {
            ++g;
            ++n;
        } else if (starGlob >= 0) {
            g = starGlob + 1;
            n = ++starName;
        } else {
            return false;
        }
    }
    while (g < glob.size() && glob[g] == u'*')
        ++g;
    return g == glob.size();
}

QString providerTypeName(ProviderType type) {
    for (const ProviderTypeSpelling& spelling : kProviderTypes)
        if (spelling.type == type)
            return QString::fromLatin1(spelling.name);
    return {};
}

std::optional<QString> ModelMapping::apply(const QString& requested) const {
    if (kind == Kind::Keep)
        return requested;
    if (kind == Kind::Replace)
        return model;
    for (const auto& [glob, target] : globs)
        if (globMatches(glob, requested))
            return target;
    return std::nullopt;
}

ConfigResult parseConfig(const QByteArray& json) {
    if (json.trimmed().isEmpty())
        return {std::nullopt, {{QStringLiteral("$"), QStringLiteral("the config is empty; it must be a JSON object")}}};
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        return {std::nullopt,
                {{QStringLiteral("$"),
                  QStringLiteral("invalid JSON at %1: %2").arg(position(json, error.offset), error.errorString())}}};
    if (!document.isObject())
        return {std::nullopt, {{QStringLiteral("$"), QStringLiteral("expected an object { ... }, got an array")}}};
    return Validator(document.object(), json).run();
}

QByteArray defaultConfigJson() {
    // Written out rather than serialised from a QJsonObject, which would sort the keys: the first file a user
    // opens should read top-down like the documentation.
    const FailoverConfig failover;
    QStringList codes;
    for (int code : failover.triggerOnStatusCodes)
        codes.append(QString::number(code));
    QString failoverLines = QStringLiteral("    \"triggerOnStatusCodes\": [%1]").arg(codes.join(QStringLiteral(", ")));
    for (const FailoverInt& setting : kFailoverInts)
        failoverLines +=
            QStringLiteral(",\n    \"%1\": %2").arg(QString::fromLatin1(setting.key)).arg(failover.*setting.member);
    const ListenConfig listen;
    return QStringLiteral(R"({
  "version": 1,
  "listen": { "host": "%1", "port": %2 },
  "providers": {
    "anthropic": { "type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client" }
  },
  "chains": {
    "default": { "steps": [ { "provider": "anthropic" } ] }
  },
  "activeChain": "default",
  "failover": {
%3
  }
}
)")
        .arg(listen.host, QString::number(listen.port), failoverLines)
        .toUtf8();
}

}  // namespace understudy
