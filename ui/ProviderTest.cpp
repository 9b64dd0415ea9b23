#include "ProviderTest.h"

#include "config/Secrets.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QTimer>

namespace understudy::ui {
namespace {

constexpr int kTimeoutMs = 15000;
constexpr qsizetype kShownBodyChars = 400;

QString describe(QNetworkReply& reply) {
    const int status = reply.attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply.readAll();
    if (status == 0)
        return QStringLiteral("no answer: %1").arg(reply.errorString());
    if (status >= 200 && status < 300) {
        const qsizetype models = QJsonDocument::fromJson(body).object().value(QStringLiteral("data")).toArray().size();
        return QStringLiteral("OK: HTTP %1, %2 models listed").arg(status).arg(models);
    }
    QString text = QString::fromUtf8(body).simplified();
    if (text.size() > kShownBodyChars)
        text = text.left(kShownBodyChars) + QStringLiteral("…");
    return QStringLiteral("HTTP %1: %2").arg(status).arg(text);
}

}  // namespace

ProviderTest::ProviderTest(QObject* parent) : QObject(parent) {}

void ProviderTest::start(const QString& id, const QJsonObject& fields) {
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
        m_reply = nullptr;
    }
    const auto finish = [this](bool ok, const QString& message) {
        QTimer::singleShot(0, this, [this, ok, message] { Q_EMIT finished(ok, message); });
    };
    const QString type = fields.value(QStringLiteral("type")).toString();
    const bool anthropic = type == u"anthropic";
    if (!anthropic && type != u"openai-chat" && type != u"openai-responses")
        return finish(false, QStringLiteral("Test is not available for %1 providers yet").arg(type));
    const QString auth = fields.value(QStringLiteral("auth")).toString(
        fields.contains(QStringLiteral("apiKey")) ? QStringLiteral("key") : QStringLiteral("none"));
    if (auth == u"client")
        return finish(false, QStringLiteral("This provider uses your client's own login or key, which Understudy only "
                                            "sees on a request: nothing to test with here"));
    // Anthropic's base URL is the host (requests add /v1/...); OpenAI's ends in /v1 already.
    QNetworkRequest request(QUrl(fields.value(QStringLiteral("baseUrl")).toString()
                                 + (anthropic ? QStringLiteral("/v1/models") : QStringLiteral("/models"))));
    request.setTransferTimeout(kTimeoutMs);
    if (auth == u"key") {
        const SecretLookup key = resolveSecret(fields.value(QStringLiteral("apiKey")).toString(),
                                               QStringLiteral("provider '%1'").arg(id));
        if (!key.error.isEmpty())
            return finish(false, key.error);
        if (anthropic)
            request.setRawHeader("x-api-key", key.value);
        else
            request.setRawHeader("Authorization", "Bearer " + key.value);
    }
    if (anthropic)
        request.setRawHeader("anthropic-version", "2023-06-01");
    m_reply = m_network.get(request);
    connect(m_reply, &QNetworkReply::finished, this, [this, reply = m_reply] {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QString message = describe(*reply);
        reply->deleteLater();
        m_reply = nullptr;
        Q_EMIT finished(status >= 200 && status < 300, message);
    });
}

}  // namespace understudy::ui
