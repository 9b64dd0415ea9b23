#include "providers/Azure.h"

#include <QStringList>
#include <QUrlQuery>

namespace understudy::azure {

Endpoint parseEndpoint(const QString& pasted) {
    Endpoint endpoint;
    const QUrl url(pasted.trimmed(), QUrl::StrictMode);
    const bool http = url.scheme() == u"http" || url.scheme() == u"https";
    if (!url.isValid() || !http || url.host().isEmpty()) {
        endpoint.error = QStringLiteral("must be an absolute http:// or https:// URL, e.g. https://my-resource.openai.azure.com");
        return endpoint;
    }
    if (!url.userInfo().isEmpty()) {
        endpoint.error = QStringLiteral("must not contain a user name or password; the key belongs in apiKey");
        return endpoint;
    }
    endpoint.apiVersion = QUrlQuery(url).queryItemValue(QStringLiteral("api-version"), QUrl::FullyDecoded);
    const QStringList segments = url.path().split(QLatin1Char('/'), Qt::SkipEmptyParts);
    const qsizetype openai = segments.indexOf(QStringLiteral("openai"));
    const QStringList front = segments.mid(0, openai < 0 ? segments.size() : openai);
    const QStringList rest = openai < 0 ? QStringList() : segments.mid(openai + 1);
    endpoint.resource = url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemovePath);
    if (!front.isEmpty())
        endpoint.resource.setPath(QLatin1Char('/') + front.join(QLatin1Char('/')));
    if (rest.value(0) == u"v1") {
        endpoint.v1 = true;
    } else if (rest.value(0) == u"deployments") {
        endpoint.deployment = rest.value(1);
        if (endpoint.deployment.isEmpty())
            endpoint.error = QStringLiteral("names no deployment after /openai/deployments/");
    } else if (!rest.isEmpty()) {
        endpoint.error = QStringLiteral("has an unexpected path after /openai; paste the resource URL "
                                        "(https://my-resource.openai.azure.com), a deployment's target URI, or the "
                                        "v1 URL (https://my-resource.openai.azure.com/openai/v1/)");
    }
    return endpoint;
}

QUrl chatUrl(const Endpoint& endpoint, const QString& apiVersion, const QString& model) {
    QUrl url = endpoint.resource;
    QString path = url.path();
    if (endpoint.v1) {
        path += QStringLiteral("/openai/v1/chat/completions");
    } else {
        const QString deployment = endpoint.deployment.isEmpty() ? model : endpoint.deployment;
        path += QStringLiteral("/openai/deployments/%1/chat/completions")
                    .arg(QString::fromLatin1(QUrl::toPercentEncoding(deployment)));
    }
    url.setPath(path, QUrl::TolerantMode);
    if (!apiVersion.isEmpty()) {
        QUrlQuery query;
        query.addQueryItem(QStringLiteral("api-version"), apiVersion);
        url.setQuery(query);
    }
    return url;
}

}  // namespace understudy::azure
