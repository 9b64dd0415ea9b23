#include "config/Catalog.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace understudy {
namespace {

// The dialects a preset may name: the cloud types need more than a URL and a key, so they have no preset.
std::optional<ProviderType> dialectType(const QString& name) {
    for (ProviderType type : {ProviderType::Anthropic, ProviderType::OpenAIChat, ProviderType::OpenAIResponses}) {
        if (providerTypeName(type) == name)
            return type;
    }
    return std::nullopt;
}

std::optional<AuthStyle> authStyle(const QString& name) {
    if (name == QLatin1String("x-api-key"))
        return AuthStyle::ApiKeyHeader;
    if (name == QLatin1String("bearer"))
        return AuthStyle::Bearer;
    if (name == QLatin1String("none"))
        return AuthStyle::None;
    return std::nullopt;
}

bool isLoopback(const QUrl& url) {
    const QString host = url.host();
    return host == QLatin1String("localhost") || host == QLatin1String("127.0.0.1") || host == QLatin1String("::1");
}

QString parseModel(const QJsonObject& o, CatalogModel* model) {
    model->id = o.value(QStringLiteral("id")).toString();
    if (model->id.isEmpty())
        return QStringLiteral("a model has no id");
    if (const QJsonValue max = o.value(QStringLiteral("maxOutputTokens")); !max.isUndefined()) {
        if (!max.isDouble() || max.toInt() <= 0)
            return QStringLiteral("model '%1': maxOutputTokens must be a positive number").arg(model->id);
        model->maxOutputTokens = max.toInt();
    }
    if (const QJsonValue prefill = o.value(QStringLiteral("prefill")); !prefill.isUndefined()) {
        if (!prefill.isBool())
            return QStringLiteral("model '%1': prefill must be true or false").arg(model->id);
        model->prefill = prefill.toBool();
    }
    model->priceNote = o.value(QStringLiteral("priceNote")).toString();
    return {};
}

QString parseProvider(const QJsonObject& o, CatalogProvider* p) {
    p->id = o.value(QStringLiteral("id")).toString();
    p->name = o.value(QStringLiteral("name")).toString();
    if (p->id.isEmpty() || p->name.isEmpty())
        return QStringLiteral("every provider needs an id and a name");
    const auto type = dialectType(o.value(QStringLiteral("type")).toString());
    if (!type)
        return QStringLiteral("type must be anthropic, openai-chat or openai-responses");
    p->type = *type;
    const auto auth = authStyle(o.value(QStringLiteral("auth")).toString());
    if (!auth)
        return QStringLiteral("auth must be x-api-key, bearer or none");
    p->auth = *auth;
    p->local = o.value(QStringLiteral("local")).toBool();
    p->baseUrl = QUrl(o.value(QStringLiteral("baseUrl")).toString(), QUrl::StrictMode);
    if (!p->baseUrl.isValid() || p->baseUrl.host().isEmpty() || p->baseUrl.path().endsWith(QLatin1Char('/')))
        return QStringLiteral("baseUrl must be an absolute URL without a trailing '/'");
    // A key must never cross the network in clear text; only a server on this machine may use http.
    const bool plainAllowed = p->local && isLoopback(p->baseUrl);
    if (p->baseUrl.scheme() != QLatin1String("https") && !(plainAllowed && p->baseUrl.scheme() == QLatin1String("http")))
        return QStringLiteral("baseUrl must use https (plain http only for a local server on localhost)");
    if (p->local != isLoopback(p->baseUrl))
        return QStringLiteral("local must be true exactly when baseUrl is on this machine");
    p->checked = o.value(QStringLiteral("checked")).toString();
    p->source = o.value(QStringLiteral("source")).toString();
    if (!QUrl(p->source, QUrl::StrictMode).scheme().startsWith(QLatin1String("http")))
        return QStringLiteral("source must be the URL the preset was checked against");
    const QJsonArray models = o.value(QStringLiteral("models")).toArray();
    if (models.isEmpty())
        return QStringLiteral("models must list at least one model");
    for (const QJsonValue& m : models) {
        CatalogModel model;
        if (const QString error = parseModel(m.toObject(), &model); !error.isEmpty())
            return error;
        p->models.append(model);
    }
    return {};
}

}  // namespace

CatalogResult parseCatalog(const QByteArray& json) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return {{}, QStringLiteral("provider catalog: %1").arg(parseError.errorString())};
    CatalogResult result;
    const QJsonArray providers = doc.object().value(QStringLiteral("providers")).toArray();
    for (qsizetype i = 0; i < providers.size(); ++i) {
        CatalogProvider provider;
        if (const QString error = parseProvider(providers.at(i).toObject(), &provider); !error.isEmpty())
            return {{}, QStringLiteral("provider catalog: providers[%1] (%2): %3").arg(i).arg(provider.id, error)};
        for (const CatalogProvider& earlier : result.providers) {
            if (earlier.id == provider.id)
                return {{}, QStringLiteral("provider catalog: providers[%1]: id '%2' is used twice").arg(i).arg(provider.id)};
        }
        result.providers.append(std::move(provider));
    }
    return result;
}

const QList<CatalogProvider>& builtInCatalog() {
    static const QList<CatalogProvider> catalog = [] {
        QFile file(QStringLiteral(":/understudy/providers.json"));
        if (!file.open(QIODevice::ReadOnly))
            qFatal("the built-in provider catalog is missing from the binary");
        CatalogResult parsed = parseCatalog(file.readAll());
        if (!parsed.error.isEmpty())
            qFatal("%s", qPrintable(parsed.error));
        return parsed.providers;
    }();
    return catalog;
}

std::optional<CatalogProvider> catalogProvider(const QString& id) {
    for (const CatalogProvider& p : builtInCatalog()) {
        if (p.id == id)
            return p;
    }
    return std::nullopt;
}

}  // namespace understudy
