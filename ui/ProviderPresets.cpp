#include "ProviderPresets.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

namespace understudy::ui {
namespace {

// The keys a provider entry of the config may have; a catalog's own keys (prices, models, docs links) are not.
const QStringList kConfigKeys{"type", "baseUrl", "auth", "apiKey", "prefill", "region", "project", "endpoint",
                              "apiVersion", "accessKeyId", "secretAccessKey", "sessionToken", "serviceAccount"};

std::optional<ProviderPreset> preset(const QString& key, const QJsonObject& entry) {
    const QString id = entry.value(QStringLiteral("id")).toString(key);
    if (id.isEmpty() || !entry.value(QStringLiteral("type")).isString())
        return std::nullopt;
    QJsonObject fields;
    for (const QString& configKey : kConfigKeys)
        if (entry.contains(configKey))
            fields.insert(configKey, entry.value(configKey));
    // A catalog says how a provider authenticates; the reference to the user's key is theirs to name.
    if (fields.value(QStringLiteral("auth")).toString() == u"key" && !fields.contains(QStringLiteral("apiKey")))
        fields.insert(QStringLiteral("apiKey"), QStringLiteral("keychain:") + id);
    return ProviderPreset{entry.value(QStringLiteral("name")).toString(id), id, fields};
}

QList<ProviderPreset> builtIn() {
    const auto http = [](const char* type, const char* baseUrl, const char* auth, const char* apiKey = nullptr) {
        QJsonObject fields{{"type", type}, {"baseUrl", baseUrl}, {"auth", auth}};
        if (apiKey)
            fields.insert(QStringLiteral("apiKey"), apiKey);
        return fields;
    };
    return {
        {"Anthropic (your Claude login or API key)", "anthropic", http("anthropic", "https://api.anthropic.com", "client")},
        {"Z.ai (GLM)", "zai", http("anthropic", "https://api.z.ai/api/anthropic", "key", "keychain:zai")},
        {"Moonshot (Kimi)", "moonshot", http("anthropic", "https://api.moonshot.ai/anthropic", "key", "keychain:moonshot")},
        {"DeepSeek", "deepseek", http("anthropic", "https://api.deepseek.com/anthropic", "key", "keychain:deepseek")},
        {"OpenRouter", "openrouter", http("openai-chat", "https://openrouter.ai/api/v1", "key", "env:OPENROUTER_API_KEY")},
        {"OpenAI", "openai", http("openai-responses", "https://api.openai.com/v1", "key", "env:OPENAI_API_KEY")},
        {"Ollama (this computer)", "local", http("openai-chat", "http://127.0.0.1:11434/v1", "none")},
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

QList<ProviderPreset> presetsFromCatalog(const QByteArray& catalog) {
    QJsonDocument document = QJsonDocument::fromJson(catalog);
    QJsonValue entries = document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
    if (entries.isObject() && entries.toObject().contains(QStringLiteral("providers")))
        entries = entries.toObject().value(QStringLiteral("providers"));
    QList<ProviderPreset> presets;
    if (entries.isArray()) {
        for (const QJsonValue& entry : entries.toArray())
            if (const auto p = preset({}, entry.toObject()))
                presets.append(*p);
    } else {
        const QJsonObject byId = entries.toObject();
        for (auto it = byId.begin(); it != byId.end(); ++it)
            if (const auto p = preset(it.key(), it.value().toObject()))
                presets.append(*p);
    }
    return presets;
}

QList<ProviderPreset> providerPresets() {
    QFile file(QStringLiteral(":/providers.json"));
    if (file.open(QIODevice::ReadOnly))
        if (QList<ProviderPreset> presets = presetsFromCatalog(file.readAll()); !presets.isEmpty())
            return presets;
    return builtIn();
}

}  // namespace understudy::ui
