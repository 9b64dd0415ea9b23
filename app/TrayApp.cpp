#include "TrayApp.h"

#include "Connect.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>

namespace understudy {
namespace {

const QString kNotificationsKey = QStringLiteral("notifications");

ui::ClientConnection::State uiState(connect::Connection::State state) {
    using State = ui::ClientConnection::State;
    switch (state) {
    case connect::Connection::State::Connected: return State::Connected;
    case connect::Connection::State::NotConnected: return State::NotConnected;
    case connect::Connection::State::NotInstalled: return State::NotInstalled;
    case connect::Connection::State::Unreadable: return State::Unreadable;
    }
    return State::Unreadable;
}

}  // namespace

TrayApp::TrayApp(ProxyHost& host, const QString& settingsPath, QObject* parent)
    : QObject(parent), m_host(host), m_settings(settingsPath, QSettings::IniFormat) {
    const bool notifications = m_settings.value(kNotificationsKey, true).toBool();
    m_policy.setEnabled(notifications);
    m_tray.setNotificationsEnabled(notifications);
    if (host.config())
        m_board.applyConfig(*host.config());

    connect(&host, &ProxyHost::listening, this, [this](const QString& address, quint16 port) {
        m_board.listening(address, port);
        m_proxyUrl = connect::proxyUrl(address, port);
        refreshConnections();
    });
    connect(&host, &ProxyHost::listenFailed, this, &TrayApp::onListenFailed);
    connect(&host, &ProxyHost::eventRecorded, this, &TrayApp::onEvent);
    connect(&host, &ProxyHost::configApplied, this, [this](std::shared_ptr<const Config> config) {
        m_board.applyConfig(*config);
        render();
    });
    connect(&host, &ProxyHost::usageSnapshot, this, [this](const UsageSnapshot& snapshot) {
        m_board.usage(snapshot);
        render();
    });
    connect(&host, &ProxyHost::usageFailed, this, [this](const QString& message) {
        m_board.usageFailed(message);
        render();
    });

    connect(&m_tray, &ui::Tray::chainPicked, this, &TrayApp::pickChain);
    connect(&m_tray, &ui::Tray::pauseToggled, this, &TrayApp::setPaused);
    connect(&m_tray, &ui::Tray::notificationsToggled, this, &TrayApp::setNotificationsEnabled);
    connect(&m_tray, &ui::Tray::statusRequested, this, &TrayApp::showStatus);
    connect(&m_tray, &ui::Tray::quitRequested, qApp, &QCoreApplication::quit);
    connect(&m_window, &ui::StatusWindow::retryRequested, this, &TrayApp::retryNow);
    connect(&m_tray, &ui::Tray::connectToggled, this, &TrayApp::toggleConnection);
    connect(&m_tray, &ui::Tray::connectMenuOpened, this, &TrayApp::refreshConnections);
    render();
    m_tray.show();
}

void TrayApp::showStatus() {
    refreshConnections();
    m_window.bringToFront();
}

void TrayApp::onEvent(const ProxyEvent& event) {
    m_board.record(event);
    notify(m_policy.onEvent(event, QDateTime::currentMSecsSinceEpoch()));
    render();
}

void TrayApp::onListenFailed(const QString& message) {
    m_board.listenFailed(message);
    notify(m_policy.onListenFailed(message));
    render();
}

void TrayApp::pickChain(const QString& chain) {
    const QString error = m_host.pickChain(chain);
    if (!error.isEmpty())
        m_tray.notify({ui::Notification::Kind::Problem, QStringLiteral("Chain '%1' not picked").arg(chain), error});
    render();  // on failure, the menu goes back to the chain in force
}

void TrayApp::setPaused(bool paused) {
    m_host.setPaused(paused);
    m_board.setPaused(paused);
    render();
}

void TrayApp::setNotificationsEnabled(bool enabled) {
    m_policy.setEnabled(enabled);
    m_settings.setValue(kNotificationsKey, enabled);
}

void TrayApp::retryNow(const QString& target) {
    m_host.retryNow(target);
    m_board.retrying(target);
    render();
}

// Read again whenever it is about to be shown: the user may edit the files, or run `understudy connect`.
void TrayApp::refreshConnections() {
    if (m_proxyUrl.isEmpty())
        return;
    QList<ui::ClientConnection> connections;
    for (const connect::Client client : connect::allClients()) {
        const connect::Connection c = connect::connectionState(client, QDir::homePath(), m_proxyUrl);
        connections.append({connect::clientName(client), connect::clientTitle(client),
                            uiState(c.state), c.reason});
    }
    m_board.setConnections(connections);
    render();
}

void TrayApp::toggleConnection(const QString& name, bool on) {
    const std::optional<connect::Client> client = connect::clientNamed(name);
    if (!client || m_proxyUrl.isEmpty())
        return;
    const connect::Outcome outcome =
        on ? connect::connectClient(*client, QDir::homePath(), m_proxyUrl) : connect::undoClient(*client);
    m_tray.notify({outcome.ok ? ui::Notification::Kind::Done : ui::Notification::Kind::Problem,
                   QStringLiteral("%1 %2%3")
                       .arg(connect::clientTitle(*client), outcome.ok ? QString() : QStringLiteral("not "),
                            on ? QStringLiteral("connected") : QStringLiteral("disconnected")),
                   outcome.message});
    refreshConnections();  // the menu shows what the files say now, whatever happened
}

void TrayApp::notify(const std::optional<ui::Notification>& notification) {
    if (notification)
        m_tray.notify(*notification);
}

void TrayApp::render() {
    m_tray.render(m_board.status());
    m_window.render(m_board.status());
}

}  // namespace understudy
