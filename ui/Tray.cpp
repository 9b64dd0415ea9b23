#include "Tray.h"

#include "ClientSetup.h"
#include "TrayIcons.h"

#include <QClipboard>
#include <QDateTime>
#include <QGuiApplication>

namespace understudy::ui {
namespace {

QSystemTrayIcon::MessageIcon messageIcon(Notification::Kind kind) {
    switch (kind) {
    case Notification::Kind::Recovery:
    case Notification::Kind::QuotaBack: return QSystemTrayIcon::Information;
    case Notification::Kind::Done: return QSystemTrayIcon::Information;
    case Notification::Kind::Failover:
    case Notification::Kind::Storm:
    case Notification::Kind::Quota:
    case Notification::Kind::Budget:
    case Notification::Kind::Spending:
    case Notification::Kind::Problem: return QSystemTrayIcon::Warning;
    case Notification::Kind::AllDown:
    case Notification::Kind::Stopped: return QSystemTrayIcon::Critical;
    }
    return QSystemTrayIcon::Information;
}

}  // namespace

Tray::Tray(QObject* parent) : QObject(parent) {
    buildMenu();
    m_icon.setContextMenu(&m_menu);
    m_icon.setIcon(trayIcon(m_state));
    m_icon.setToolTip(QStringLiteral("Understudy: starting…"));
    connect(&m_icon, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
            Q_EMIT statusRequested();
    });
    connect(&m_icon, &QSystemTrayIcon::messageClicked, this, &Tray::statusRequested);
}

void Tray::buildMenu() {
    m_headline = m_menu.addAction(QString());
    m_headline->setEnabled(false);
    m_menu.addSection(QStringLiteral("Chain"));
    m_chainsEnd = m_menu.addSeparator();
    m_chainGroup.setExclusive(true);
    connect(&m_chainGroup, &QActionGroup::triggered, this, [this](QAction* entry) {
        const QString chain = entry->data().toString();
        if (chain != m_activeChain)
            Q_EMIT chainPicked(chain);
    });

    m_pause = m_menu.addAction(QStringLiteral("Pause failover"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(QStringLiteral("Send every request to the first step of its chain, errors included"));
    connect(m_pause, &QAction::triggered, this, &Tray::pauseToggled);
    m_notifications = m_menu.addAction(QStringLiteral("Notifications"));
    m_notifications->setCheckable(true);
    m_notifications->setChecked(true);
    connect(m_notifications, &QAction::triggered, this, &Tray::notificationsToggled);
    m_menu.addSeparator();

    connect(m_menu.addAction(QStringLiteral("Status…")), &QAction::triggered, this, &Tray::statusRequested);
    connect(m_menu.addAction(QStringLiteral("Settings…")), &QAction::triggered, this, &Tray::settingsRequested);
    m_setup = m_menu.addMenu(QStringLiteral("Copy setup for"));
    for (Client client : allClients())
        connect(m_setup->addAction(clientName(client)), &QAction::triggered, this, [this, client] { copySetup(client); });
    m_connect = m_menu.addMenu(QStringLiteral("Connect"));
    m_connect->setToolTipsVisible(true);
    connect(m_connect, &QMenu::aboutToShow, this, &Tray::connectMenuOpened);
    m_menu.addSeparator();
    connect(m_menu.addAction(QStringLiteral("Quit Understudy")), &QAction::triggered, this, &Tray::quitRequested);
}

void Tray::render(const Status& status) {
    if (status.trayState() != m_state) {  // rendered from SVG: only when it changes, not on every request
        m_state = status.trayState();
        m_icon.setIcon(trayIcon(m_state));
    }
    const QString back = status.comebacks(QDateTime::currentMSecsSinceEpoch());
    m_icon.setToolTip(QStringLiteral("Understudy: ") + status.headline() + (back.isEmpty() ? QString() : u'\n' + back));
    m_headline->setText(status.headline());
    m_pause->setChecked(status.paused);
    m_listenUrl = status.listenUrl;
    m_setup->setEnabled(status.listening);
    renderChains(status);
    renderConnections(status);
}

// One checkable entry per client, ticked while its settings point at this proxy.
void Tray::renderConnections(const Status& status) {
    m_connect->setEnabled(status.listening && !status.connections.isEmpty());
    for (const ClientConnection& c : status.connections) {
        QAction*& entry = m_connectEntries[c.client];
        if (!entry) {
            entry = m_connect->addAction(c.title);
            entry->setCheckable(true);
            connect(entry, &QAction::triggered, this,
                    [this, client = c.client](bool on) { Q_EMIT connectToggled(client, on); });
        }
        const bool connected = c.state == ClientConnection::State::Connected;
        entry->setChecked(connected);
        entry->setEnabled(c.state != ClientConnection::State::NotInstalled);
        entry->setText(connected || c.state == ClientConnection::State::NotConnected
                           ? c.title
                           : QStringLiteral("%1 (%2)").arg(c.title, stateText(c.state)));
        entry->setToolTip(connected ? QStringLiteral("%1 uses this proxy; untick to put its settings back").arg(c.title)
                                    : c.detail);
    }
}

void Tray::renderChains(const Status& status) {
    m_activeChain = status.activeChain;
    if (status.chains != m_shownChains || status.clientChains != m_shownClients)
        rebuildChains(status);
    for (QAction* entry : m_chainGroup.actions())
        entry->setChecked(entry->data().toString() == m_activeChain);
}

// Old entries go with deleteLater: this may run inside the triggered() of one of them.
void Tray::rebuildChains(const Status& status) {
    for (QAction* entry : std::as_const(m_chainEntries)) {
        m_chainGroup.removeAction(entry);
        m_menu.removeAction(entry);
        entry->deleteLater();
    }
    m_chainEntries.clear();
    for (const QString& chain : status.chains) {
        auto* entry = new QAction(chain, &m_menu);
        entry->setData(chain);
        entry->setCheckable(true);
        m_chainGroup.addAction(entry);
        m_chainEntries.append(entry);
    }
    for (auto it = status.clientChains.cbegin(); it != status.clientChains.cend(); ++it) {
        auto* note = new QAction(QStringLiteral("%1 uses %2").arg(it.key(), it.value()), &m_menu);
        note->setEnabled(false);
        m_chainEntries.append(note);
    }
    m_menu.insertActions(m_chainsEnd, m_chainEntries);
    m_shownChains = status.chains;
    m_shownClients = status.clientChains;
}

void Tray::notify(const Notification& notification) {
    m_icon.showMessage(notification.title, notification.message, messageIcon(notification.kind));
    Q_EMIT notified(notification);
}

void Tray::setNotificationsEnabled(bool enabled) { m_notifications->setChecked(enabled); }

void Tray::copySetup(Client client) {
    QGuiApplication::clipboard()->setText(setupText(client, m_listenUrl));
    m_icon.showMessage(QStringLiteral("Copied the %1 setup").arg(clientName(client)),
                       QStringLiteral("Paste it where %1 reads its settings.").arg(clientName(client)),
                       QSystemTrayIcon::Information, 3000);
}

}  // namespace understudy::ui
