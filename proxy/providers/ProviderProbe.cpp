#include "providers/ProviderProbe.h"

#include "dialects/Dialect.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

namespace understudy {
namespace {

constexpr qsizetype kMaxQuotedBody = 500;
const QString kPrompt = QStringLiteral("Reply with one word.");

// The smallest request each dialect accepts. The Responses API refuses fewer than 16 output tokens.
QByteArray probeBody(Dialect dialect, const QString& model) {
    QJsonObject body{{QStringLiteral("model"), model}};
    const QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                          {QStringLiteral("content"), kPrompt}}};
    switch (dialect) {
    case Dialect::AnthropicMessages:
    case Dialect::OpenAIChat:
        body.insert(QStringLiteral("max_tokens"), 1);
        body.insert(QStringLiteral("messages"), messages);
        break;
    case Dialect::OpenAIResponses:
        body.insert(QStringLiteral("max_output_tokens"), 16);
        body.insert(QStringLiteral("input"), kPrompt);
        break;
    }
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

// The provider's own explanation: error.message in both families' error bodies, else the body itself.
QString upstreamMessage(const QByteArray& body) {
    const QJsonObject object = QJsonDocument::fromJson(body).object();
    const QJsonValue error = object.value(QStringLiteral("error"));
    if (error.isObject() && error.toObject().value(QStringLiteral("message")).isString())
        return error.toObject().value(QStringLiteral("message")).toString();
    if (error.isString())
        return error.toString();
    if (object.value(QStringLiteral("message")).isString())
        return object.value(QStringLiteral("message")).toString();
    const QString text = QString::fromUtf8(body.left(kMaxQuotedBody)).trimmed();
    return text.isEmpty() ? QStringLiteral("(empty body)") : text;
}

}  // namespace

ProviderProbe::ProviderProbe(QObject* parent) : QObject(parent), m_network(new QNetworkAccessManager(this)) {}

void ProviderProbe::start(const ProviderConfig& provider, const QString& model, const KeychainValues* keychain) {
    m_model = model;
    const std::optional<Dialect> dialect = dialectOf(provider.type);
    if (!dialect) {
        fail(QStringLiteral("provider '%1': testing a %2 provider is not supported yet")
                 .arg(provider.id, providerTypeName(provider.type)));
        return;
    }
    QUrl url = provider.baseUrl;
    url.setPath(url.path() + QString::fromLatin1(upstreamPath(*dialect, false)));
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(kTimeoutMs);
    switch (provider.auth) {
    case AuthMode::Client:
        fail(QStringLiteral("provider '%1' sends each client's own credential (\"auth\": \"client\"), so there is no "
                            "stored key to test; the first request from your agent is the test")
                 .arg(provider.id));
        return;
    case AuthMode::Key: {
        const SecretLookup key =
            resolveSecret(provider.apiKey, QStringLiteral("provider '%1'").arg(provider.id), QStringLiteral("apiKey"), keychain);
        if (!key.error.isEmpty()) {
            fail(key.error);
            return;
        }
        m_key = key.value;
        if (provider.type == ProviderType::Anthropic)
            request.setRawHeader("x-api-key", key.value);
        else
            request.setRawHeader("Authorization", "Bearer " + key.value);
        break;
    }
    case AuthMode::None:
        break;
    }
    if (*dialect == Dialect::AnthropicMessages)
        request.setRawHeader("anthropic-version", "2023-06-01");
    m_clock.start();
    QNetworkReply* reply = m_network->post(request, probeBody(*dialect, model));
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onFinished(reply); });
}

void ProviderProbe::onFinished(QNetworkReply* reply) {
    reply->deleteLater();
    ProbeResult result;
    result.latencyMs = m_clock.elapsed();
    result.model = m_model;
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    if (result.status == 0) {
        result.message = reply->error() == QNetworkReply::OperationCanceledError
            ? QStringLiteral("no answer within %1 s from %2").arg(kTimeoutMs / 1000).arg(reply->url().host())
            : QStringLiteral("network: %1").arg(reply->errorString());
    } else if (result.status >= 200 && result.status < 300) {
        result.ok = true;
        const QString answered = QJsonDocument::fromJson(body).object().value(QStringLiteral("model")).toString();
        if (!answered.isEmpty())
            result.model = answered;
    } else {
        result.message = QStringLiteral("HTTP %1: %2").arg(result.status).arg(upstreamMessage(body));
    }
    // Some providers quote the key they were given; it must not reach a terminal or a dialog.
    if (!m_key.isEmpty())
        result.message.replace(QString::fromUtf8(m_key), QStringLiteral("[the key]"));
    Q_EMIT finished(result);
}

void ProviderProbe::fail(const QString& message) {
    ProbeResult result;
    result.model = m_model;
    result.message = message;
    // Always asynchronous, so a caller can connect after start() whichever way it ends.
    QTimer::singleShot(0, this, [this, result] { Q_EMIT finished(result); });
}

}  // namespace understudy
