#pragma once

#include <QList>
#include <QString>

namespace understudy::ui {

// What a user pastes to point an agent at the proxy (the README's "Point your agent at it", for one address).
enum class Client { ClaudeCode, Codex, OpenCode };

QList<Client> allClients();
QString clientName(Client client);                       // "Claude Code"
QString setupText(Client client, const QString& baseUrl);  // baseUrl: "http://127.0.0.1:8790"

}  // namespace understudy::ui
