#include "providers/Bedrock.h"

#include "config/Secrets.h"
#include "json/JsonScan.h"
#include "providers/SigV4.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace understudy::bedrock {
namespace {

struct ModelAlias {
    const char* name;     // an Anthropic API name
    const char* baseId;   // its Bedrock base id
};

// From the model tables of Anthropic's Bedrock page and AWS's model ids page (see docs/bedrock.md). Dated and
// undated names map alike.
constexpr ModelAlias kModels[] = {
    {"claude-opus-4-6", "anthropic.claude-opus-4-6-v1"},
    {"claude-sonnet-4-6", "anthropic.claude-sonnet-4-6"},
    {"claude-opus-4-5", "anthropic.claude-opus-4-5-20251101-v1:0"},
    {"claude-opus-4-5-20251101", "anthropic.claude-opus-4-5-20251101-v1:0"},
    {"claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0"},
    {"claude-sonnet-4-5-20250929", "anthropic.claude-sonnet-4-5-20250929-v1:0"},
    {"claude-haiku-4-5", "anthropic.claude-haiku-4-5-20251001-v1:0"},
    {"claude-haiku-4-5-20251001", "anthropic.claude-haiku-4-5-20251001-v1:0"},
    {"claude-opus-4-1", "anthropic.claude-opus-4-1-20250805-v1:0"},
    {"claude-opus-4-1-20250805", "anthropic.claude-opus-4-1-20250805-v1:0"},
    {"claude-opus-4-0", "anthropic.claude-opus-4-20250514-v1:0"},
    {"claude-opus-4-20250514", "anthropic.claude-opus-4-20250514-v1:0"},
    {"claude-sonnet-4-0", "anthropic.claude-sonnet-4-20250514-v1:0"},
    {"claude-sonnet-4-20250514", "anthropic.claude-sonnet-4-20250514-v1:0"},
    {"claude-3-7-sonnet-latest", "anthropic.claude-3-7-sonnet-20250219-v1:0"},
    {"claude-3-7-sonnet-20250219", "anthropic.claude-3-7-sonnet-20250219-v1:0"},
    {"claude-3-5-haiku-latest", "anthropic.claude-3-5-haiku-20241022-v1:0"},
    {"claude-3-5-haiku-20241022", "anthropic.claude-3-5-haiku-20241022-v1:0"},
};

// The betas AWS documents for Anthropic models on InvokeModel; Bedrock answers 400 "invalid beta flag" to a
// request naming any other (Claude Code's claude-code-*, oauth-*, prompt-caching-scope-*, ...).
constexpr const char* kBedrockBetas[] = {
    "computer-use-2024-10-22", "computer-use-2025-01-24",  "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14", "output-128k-2025-02-19", "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07", "context-management-2025-06-27", "effort-2025-11-24",
    "tool-search-tool-2025-10-19", "tool-examples-2025-10-29",
};

// The cross-region inference profile geography of a region: many models take no on-demand call by base id.
QString profilePrefix(const QString& region) {
    if (region.startsWith(QLatin1String("us-gov-")))
        return QStringLiteral("us-gov.");
    if (region.startsWith(QLatin1String("us-")))
        return QStringLiteral("us.");
    if (region.startsWith(QLatin1String("eu-")))
        return QStringLiteral("eu.");
    if (region.startsWith(QLatin1String("ap-")))
        return QStringLiteral("apac.");
    return {};
}

bool isBedrockBeta(QByteArrayView beta) {
    for (const char* known : kBedrockBetas) {
        if (beta == known)
            return true;
    }
    return false;
}

QByteArray betaArray(QByteArrayView header) {
    QByteArray out;
    for (QByteArray beta : header.toByteArray().split(',')) {
        beta = beta.trimmed();
        if (isBedrockBeta(beta))
            out.append(out.isEmpty() ? "[" : ",").append('"').append(beta).append('"');
    }
    return out.isEmpty() ? out : out + ']';
}

QByteArray errorEventData(const QByteArray& type, const QString& message) {
    const QJsonObject error{{QStringLiteral("type"), QString::fromLatin1(type)}, {QStringLiteral("message"), message}};
    return QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("error")}, {QStringLiteral("error"), error}})
        .toJson(QJsonDocument::Compact);
}

// The Anthropic error type a client (and the failover policy) understands for a Bedrock stream exception.
QByteArray anthropicErrorType(QByteArrayView exception) {
    if (exception == "throttlingException")
        return "rate_limit_error";
    if (exception == "serviceUnavailableException")
        return "overloaded_error";
    if (exception == "modelTimeoutException")
        return "timeout_error";
    if (exception == "validationException")
        return "invalid_request_error";
    return "api_error";  // internalServerException, modelStreamErrorException, and any added later
}

http::SseEvent sseEvent(const QByteArray& name, const QByteArray& data) {
    return {name, data, http::formatSse(name, data)};
}

}  // namespace

QString modelId(const QString& model, const QString& region) {
    if (model.contains(QLatin1Char('.')) || model.startsWith(QLatin1String("arn:")))
        return model;
    for (const ModelAlias& alias : kModels) {
        if (model.compare(QLatin1String(alias.name), Qt::CaseInsensitive) == 0)
            return profilePrefix(region) + QLatin1String(alias.baseId);
    }
    return {};
}

QByteArray invokeBody(const QByteArray& anthropicBody, QByteArrayView betaHeader) {
    return invokeBody(anthropicBody, json::scanObject(anthropicBody), betaHeader);
}

QByteArray invokeBody(const QByteArray& anthropicBody, const json::ObjectScan& scan, QByteArrayView betaHeader) {
    const QByteArray betas = scan.find("anthropic_beta").isValid() ? QByteArray() : betaArray(betaHeader);
    QByteArray out;
    out.reserve(anthropicBody.size() + 64 + betas.size());
    out.append(R"({"anthropic_version":"bedrock-2023-05-31")");
    if (!betas.isEmpty())
        out.append(R"(,"anthropic_beta":)").append(betas);
    for (const json::Member& m : scan.members) {
        const QByteArrayView key = scan.keyOf(m);
        if (key == "model" || key == "stream" || key == "anthropic_version")
            continue;
        out.append(",\"").append(key).append("\":");
        out.append(QByteArrayView(anthropicBody).sliced(m.value.begin, m.value.end - m.value.begin));
    }
    out.append('}');
    return out;
}

QString prepare(const ProviderConfig& provider, const QString& model, http::OutboundRequest& out, const QDateTime& now,
                const KeychainValues* keychain) {
    const QString owner = QStringLiteral("provider '%1'").arg(provider.id);
    const QString id = modelId(model, provider.region);
    if (id.isEmpty())
        return QStringLiteral("skipped: %1 knows no Bedrock model id for '%2'; name the Bedrock model in the chain "
                              "step, e.g. \"us.anthropic.claude-sonnet-4-5-20250929-v1:0\"").arg(owner, model);
    aws::Credentials credentials;
    QString error;
    auto resolve = [&](const QString& reference, const char* field, QByteArray& into) {
        if (reference.isEmpty() || !error.isEmpty())
            return;
        const SecretLookup secret = resolveSecret(reference, owner, QString::fromLatin1(field), keychain);
        error = secret.error;
        into = secret.value;
    };
    resolve(provider.accessKeyId, "accessKeyId", credentials.accessKeyId);
    resolve(provider.secretAccessKey, "secretAccessKey", credentials.secretAccessKey);
    resolve(provider.sessionToken, "sessionToken", credentials.sessionToken);
    if (!error.isEmpty())
        return error;

    const json::ObjectScan scan = json::scanObject(out.body);  // once: bodies reach megabytes
    if (!scan.ok)
        return QStringLiteral("skipped: %1: the request body is not a JSON object (%2)").arg(owner, scan.error);
    const bool stream = json::boolAt(out.body, scan.find("stream")).value_or(false);
    QUrl url = provider.endpoint.isEmpty()
        ? QUrl(QStringLiteral("https://bedrock-runtime.%1.amazonaws.com").arg(provider.region))
        : QUrl(provider.endpoint);
    QString base = url.path(QUrl::FullyEncoded);
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    // The id is one path segment: its ':' (and an ARN's '/') percent-encoded.
    url.setPath(base + QStringLiteral("/model/") + QString::fromLatin1(aws::uriEncode(id.toUtf8())) +
                    (stream ? QStringLiteral("/invoke-with-response-stream") : QStringLiteral("/invoke")),
                QUrl::StrictMode);
    url.setQuery(QString());

    aws::SigningRequest signing;
    signing.method = "POST";
    signing.path = url.path(QUrl::FullyEncoded).toLatin1();  // exactly what the request line will carry
    signing.body = invokeBody(out.body, scan, out.headers.value("anthropic-beta"));
    http::Headers& h = signing.headers;
    h.set("Accept", stream ? "application/vnd.amazon.eventstream" : "application/json");
    h.set("Accept-Encoding", "identity");
    h.set("Content-Type", "application/json");
    h.set("Host", http::hostHeader(url));
    const aws::SigningScope scope{provider.region.toUtf8(), "bedrock", aws::amzDate(now)};
    h.set("X-Amz-Date", scope.amzDate);
    if (!credentials.sessionToken.isEmpty())
        h.set("X-Amz-Security-Token", credentials.sessionToken);
    const QByteArray authorization = aws::authorization(signing, credentials, scope);

    out.url = url;
    out.method = signing.method;
    out.body = std::move(signing.body);
    h.remove("Host");  // the call writes it, from the same URL
    h.set("Authorization", authorization);
    out.headers = std::move(h);
    return {};
}

bool isEventStream(const http::Headers& headers) {
    return headers.value("content-type").startsWith("application/vnd.amazon.eventstream");
}

void StreamTranscoder::feed(QByteArrayView bytes, QList<http::SseEvent>& out) {
    if (m_ended)
        return;
    QList<aws::EventMessage> messages;
    const bool sound = m_decoder.feed(bytes, messages);
    for (const aws::EventMessage& message : std::as_const(messages)) {
        const QByteArray type = message.stringHeader(":message-type");
        if (type == "event") {
            if (message.stringHeader(":event-type") == "chunk")
                readChunk(message, out);
        } else if (type == "exception") {
            const QByteArray name = message.stringHeader(":exception-type");
            const QString detail = QJsonDocument::fromJson(message.payload).object().value(QLatin1String("message")).toString();
            emitError(anthropicErrorType(name), QStringLiteral("Bedrock %1: %2").arg(QString::fromUtf8(name), detail), out);
        } else if (type == "error") {
            emitError("api_error", QStringLiteral("Bedrock %1: %2").arg(QString::fromUtf8(message.stringHeader(":error-code")),
                                                                       QString::fromUtf8(message.stringHeader(":error-message"))),
                      out);
        }
        if (m_ended)
            return;
    }
    if (!sound)
        emitError("api_error", QStringLiteral("Bedrock's event stream is corrupt: %1").arg(m_decoder.error()), out);
}

void StreamTranscoder::readChunk(const aws::EventMessage& message, QList<http::SseEvent>& out) {
    // {"bytes":"<base64 of one Anthropic stream event>"} (plus padding keys such as "p", ignored)
    const json::ObjectScan payload = json::scanObject(message.payload);
    const std::optional<QString> encoded = json::stringAt(message.payload, payload.find("bytes"));
    const auto decoded = QByteArray::fromBase64Encoding(encoded.value_or(QString()).toLatin1(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    const json::ObjectScan event = json::scanObject(*decoded);
    const std::optional<QString> name = event.ok ? json::stringAt(*decoded, event.find("type")) : std::nullopt;
    if (!payload.ok || !encoded || !decoded || !name || name->isEmpty()) {
        // Like a malformed SSE event from any upstream: dropped (and logged), never forwarded.
        qWarning("understudy: dropped a malformed Bedrock chunk (%lld bytes)", static_cast<long long>(message.payload.size()));
        return;
    }
    out.append(sseEvent(name->toUtf8(), *decoded));
    m_ended = *name == u"error";  // an Anthropic error event ends the stream, as it does from Anthropic
}

void StreamTranscoder::emitError(const QByteArray& type, const QString& message, QList<http::SseEvent>& out) {
    out.append(sseEvent("error", errorEventData(type, message)));
    m_ended = true;
}

}  // namespace understudy::bedrock
