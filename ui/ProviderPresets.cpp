#include "ProviderPresets.h"

#include "config/Catalog.h"

namespace understudy::ui {
namespace {

// A catalog preset as a config entry: the catalog says how the key travels; the reference to the user's key is
// theirs to name, suggested as keychain:<id>. Anthropic keeps the client's own login, as the default config does.
ProviderPreset fromCatalog(const CatalogProvider& p) {
    QJsonObject fields{{QStringLiteral("type"), providerTypeName(p.type)},
                       {QStringLiteral("baseUrl"), p.baseUrl.toString()}};
    if (p.id == u"anthropic") {
        fields.insert(QStringLiteral("auth"), QStringLiteral("client"));
    } else if (p.auth == AuthStyle::None) {
        fields.insert(QStringLiteral("auth"), QStringLiteral("none"));
    } else {
        fields.insert(QStringLiteral("auth"), QStringLiteral("key"));
        fields.insert(QStringLiteral("apiKey"), QStringLiteral("keychain:") + p.id);
    }
    return ProviderPreset{p.name, p.id, fields};
}

// The cloud providers need more than a URL, so the catalog of URLs does not list them.
QList<ProviderPreset> cloudPresets() {
    return {
        {"Amazon Bedrock", "bedrock",
         {{"type", "bedrock"}, {"region", "us-east-1"}, {"accessKeyId", "env:AWS_ACCESS_KEY_ID"},
          {"secretAccessKey", "keychain:aws"}}},
        {"Google Vertex AI", "vertex",
         {{"type", "vertex"}, {"project", "my-project"}, {"region", "us-east5"}, {"serviceAccount", "keychain:vertex-sa"}}},
        {"Azure OpenAI", "azure",
         {{"type", "azure-openai"}, {"endpoint", "https://RESOURCE.openai.azure.com"}, {"apiVersion", "2024-10-21"},
          {"apiKey", "keychain:azure"}}},
    };
}

}  // namespace

QList<ProviderPreset> providerPresets() {
    QList<ProviderPreset> presets;
    for (const CatalogProvider& p : builtInCatalog())
        presets.append(fromCatalog(p));
    return presets + cloudPresets();
}

}  // namespace understudy::ui
