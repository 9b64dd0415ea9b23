#pragma once

#include "config/Config.h"

#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

namespace understudy {

// How a provider expects its key: "x-api-key: KEY", "Authorization: Bearer KEY", or no key (local servers).
enum class AuthStyle { ApiKeyHeader, Bearer, None };

// A model a preset suggests as a coding fallback.
struct CatalogModel {
    QString id;                          // as the provider spells it in requests
    std::optional<int> maxOutputTokens;  // documented output limit; nullopt: unknown
    std::optional<bool> prefill;         // accepts a trailing assistant message; nullopt: unknown
    QString priceNote;                   // why resources/prices.json has no price for it; empty when it has one
};

// A provider preset from resources/providers.json: what a user picks instead of typing a URL.
struct CatalogProvider {
    QString id;    // suggested config id, e.g. "zai"
    QString name;  // for people, e.g. "Z.ai / Zhipu (GLM)"
    ProviderType type = ProviderType::OpenAIChat;
    QUrl baseUrl;
    AuthStyle auth = AuthStyle::Bearer;
    bool local = false;  // a server on this machine: plain http is fine
    QString checked;     // yyyy-mm-dd the URL and models were read at `source`
    QString source;
    QList<CatalogModel> models;  // best first
};

struct CatalogResult {
    QList<CatalogProvider> providers;
    QString error;  // empty when the catalog parsed; otherwise names the entry and the field
};

CatalogResult parseCatalog(const QByteArray& json);

// The catalog compiled into the binary (resources/providers.json), parsed once.
const QList<CatalogProvider>& builtInCatalog();

// The preset with this id, if any.
std::optional<CatalogProvider> catalogProvider(const QString& id);

}  // namespace understudy
