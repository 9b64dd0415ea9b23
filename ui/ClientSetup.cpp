#include "ClientSetup.h"

namespace understudy::ui {

QList<Client> allClients() { return {Client::ClaudeCode, Client::Codex, Client::OpenCode}; }

QString clientName(Client client) {
    switch (client) {
    case Client::ClaudeCode: return QStringLiteral("Claude Code");
    case Client::Codex: return QStringLiteral("Codex");
    case Client::OpenCode: return QStringLiteral("OpenCode");
    }
    return {};
}

QString setupText(Client client, const QString& baseUrl) {
    switch (client) {
    case Client::ClaudeCode:
        return QStringLiteral("export ANTHROPIC_BASE_URL=%1\n").arg(baseUrl);
    case Client::Codex:
        return QStringLiteral("# ~/.codex/config.toml\n"
                              "model_provider = \"understudy\"\n\n"
                              "[model_providers.understudy]\n"
                              "name = \"Understudy\"\n"
                              "base_url = \"%1/v1\"\n"
                              "wire_api = \"responses\"\n"
                              "env_key = \"OPENAI_API_KEY\"\n")
            .arg(baseUrl);
    case Client::OpenCode:
        return QStringLiteral("{\n"
                              "  \"$schema\": \"https://opencode.ai/config.json\",\n"
                              "  \"provider\": {\n"
                              "    \"anthropic\": { \"options\": { \"baseURL\": \"%1/v1\" } }\n"
                              "  }\n"
                              "}\n")
            .arg(baseUrl);
    }
    return {};
}

}  // namespace understudy::ui
