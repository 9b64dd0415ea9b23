#include "TrayApp.h"

#include "Autostart.h"
#include "Connect.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>

namespace understudy {
namespace {

const QString kNotificationsKey = QStringLiteral("notifications");
// Pausing is the user's switch for this desktop, not part of the proxy's config (headless has no pause), so it
// is kept with the tray's other preferences and survives a restart.
const QString kPausedKey = QStringLiteral("paused");

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
    if (host.config()) {
        m_board.applyConfig(*host.config());
        readToken(*host.config());
    }

    connect(&host, &ProxyHost::listening, this, [this](const QString& address, quint16 port) {
        m_board.listening(address, port);
        m_proxyUrl = connect::proxyUrl(address, port);
        refreshConnections();
    });
    connect(&host, &ProxyHost::listenFailed, this, &TrayApp::onListenFailed);
    connect(&host, &ProxyHost::eventRecorded, this, &TrayApp::onEvent);
    connect(&host, &ProxyHost::configApplied, this, [this](std::shared_ptr<const Config> config) {
        m_board.applyConfig(*config);
        readToken(*config);
        render();
        refreshConnections();
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
    connect(&m_tray, &ui::Tray::settingsRequested, this, &TrayApp::showSettings);
    connect(&m_tray, &ui::Tray::quitRequested, qApp, &QCoreApplication::quit);
    connect(&m_window, &ui::StatusWindow::retryRequested, this, &TrayApp::retryNow);
    connect(&m_tray, &ui::Tray::connectToggled, this, &TrayApp::toggleConnection);
    connect(&m_tray, &ui::Tray::connectMenuOpened, this, &TrayApp::refreshConnections);
    if (m_settings.value(kPausedKey, false).toBool())
        setPaused(true);
    render();
    m_tray.show();
}

// The token `connect` gives the clients is the one the running config requires, read with it.
void TrayApp::readToken(const Config& config) {
    const SecretLookup token = config.listen.accessToken.isEmpty()
        ? SecretLookup{}
        : resolveSecret(config.listen.accessToken, QStringLiteral("listen"), QStringLiteral("accessToken"),
                        config.keychain.get());
    m_token = token.value;
    m_tokenProblem = token.error;
}

void TrayApp::showStatus() {
    refreshConnections();
    m_window.bringToFront();
}

// One dialog: opening it again brings the open one forward, with its unsaved edits.
void TrayApp::showSettings() {
    if (!m_settingsDialog) {
        m_settingsDialog = std::make_unique<ui::SettingsDialog>(m_host.configPath());
        connect(m_settingsDialog.get(), &ui::SettingsDialog::configSaved, &m_host, &ProxyHost::reloadConfig);
        connect(m_settingsDialog.get(), &ui::SettingsDialog::preferencesApplied, this, &TrayApp::applyPreferences);
        m_settingsDialog->launchAtLogin().setToolTip(Autostart::location());
    }
    if (!m_settingsDialog->isVisible())
        m_settingsDialog->reload({m_policy.isEnabled(), Autostart::isEnabled()});
    m_settingsDialog->show();
    m_settingsDialog->raise();
    m_settingsDialog->activateWindow();
}

void TrayApp::applyPreferences(const ui::SettingsDialog::Preferences& preferences) {
    setNotificationsEnabled(preferences.notifications);
    m_tray.setNotificationsEnabled(preferences.notifications);
    if (preferences.launchAtLogin != Autostart::isEnabled())
        if (const QString error = Autostart::setEnabled(preferences.launchAtLogin); !error.isEmpty())
            m_settingsDialog->setLaunchAtLoginError(error);
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
    m_settings.setValue(kPausedKey, paused);
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
        const connect::Connection c = connect::connectionState(client, QDir::homePath(), m_proxyUrl, m_token);
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
    // As `understudy connect` does: a client connected without the token the proxy requires only gets refusals.
    if (on && !m_tokenProblem.isEmpty()) {
        m_tray.notify({ui::Notification::Kind::Problem,
                       QStringLiteral("%1 not connected").arg(connect::clientTitle(*client)), m_tokenProblem});
        refreshConnections();
        return;
    }
    const connect::Outcome outcome =
        on ? connect::connectClient(*client, QDir::homePath(), m_proxyUrl, m_token) : connect::undoClient(*client);
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
