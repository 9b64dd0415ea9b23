#pragma once

#include <QString>

namespace understudy::ui {

// Whether a coding agent's own settings point at this proxy: what the Connect menu ticks and the status window's
// Clients section says. app/ reads the settings files (app/Connect) and hands the result over.
struct ClientConnection {
    enum class State { Connected, NotConnected, NotInstalled, Unreadable };
    QString client;  // "claude-code": the name the proxy's events and the config's `clients` use
    QString title;   // "Claude Code"
    State state = State::NotInstalled;
    QString detail;  // unless Connected: why, naming the settings file

    bool operator==(const ClientConnection&) const = default;
};

inline QString stateText(ClientConnection::State state) {
    switch (state) {
    case ClientConnection::State::Connected: return QStringLiteral("connected");
    case ClientConnection::State::NotConnected: return QStringLiteral("not connected");
    case ClientConnection::State::NotInstalled: return QStringLiteral("not installed");
    case ClientConnection::State::Unreadable: return QStringLiteral("settings unreadable");
    }
    return {};
}

}  // namespace understudy::ui
