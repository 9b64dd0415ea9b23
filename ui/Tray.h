#pragma once

#include "ClientSetup.h"
#include "Notification.h"
#include "Status.h"

#include <QActionGroup>
#include <QMenu>
#include <QObject>
#include <QSystemTrayIcon>

namespace understudy::ui {

// The tray icon and its menu. Renders a Status; what the user picks comes back as signals.
class Tray : public QObject {
    Q_OBJECT
public:
    explicit Tray(QObject* parent = nullptr);

    void render(const Status& status);
    void notify(const Notification& notification);
    void setNotificationsEnabled(bool enabled);
    void show() { m_icon.show(); }

    QMenu* menu() { return &m_menu; }
    QMenu* connectMenu() { return m_connect; }
    const QSystemTrayIcon& icon() const { return m_icon; }
    TrayState state() const { return m_state; }

Q_SIGNALS:
    void chainPicked(const QString& chain);
    void pauseToggled(bool paused);
    void notificationsToggled(bool enabled);
    void statusRequested();
    void settingsRequested();
    void quitRequested();
    void notified(const understudy::ui::Notification& notification);
    // Connect menu: the user ticked (connect) or unticked (undo) a client; the menu is opening (time to re-read).
    void connectToggled(const QString& client, bool connect);
    void connectMenuOpened();

private:
    void buildMenu();
    void renderChains(const Status& status);
    void rebuildChains(const Status& status);
    void copySetup(Client client);
    void renderConnections(const Status& status);

    QSystemTrayIcon m_icon;
    QMenu m_menu;
    QAction* m_headline = nullptr;
    QAction* m_chainsEnd = nullptr;  // chain entries go before this separator
    QActionGroup m_chainGroup{this};
    QList<QAction*> m_chainEntries;  // the radio items and the per-client notes
    QStringList m_shownChains;
    QMap<QString, QString> m_shownClients;
    QString m_activeChain;
    QAction* m_pause = nullptr;
    QAction* m_notifications = nullptr;
    QMenu* m_setup = nullptr;
    QMenu* m_connect = nullptr;
    QMap<QString, QAction*> m_connectEntries;  // client → its checkable entry
    QString m_listenUrl;
    TrayState m_state = TrayState::Stopped;
};

}  // namespace understudy::ui
