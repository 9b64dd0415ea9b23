#pragma once

#include "ProxyHost.h"

#include "Notification.h"
#include "SettingsDialog.h"
#include "Status.h"
#include "StatusWindow.h"
#include "Tray.h"

#include <QSettings>

namespace understudy {

// The tray app's wiring: the proxy's reports go into the status board and the notification policy, the
// result is rendered by the tray and the status window, and what the user picks goes back to the proxy.
class TrayApp : public QObject {
    Q_OBJECT
public:
    // `settingsPath`: where tray preferences (notifications on/off) are kept.
    TrayApp(ProxyHost& host, const QString& settingsPath, QObject* parent = nullptr);

    void showStatus();
    void showSettings();
    ui::Tray& tray() { return m_tray; }
    ui::StatusWindow& statusWindow() { return m_window; }
    ui::SettingsDialog* settingsDialog() { return m_settingsDialog.get(); }  // null until first opened
    const ui::Status& status() const { return m_board.status(); }

private:
    void onEvent(const ProxyEvent& event);
    void onListenFailed(const QString& message);
    void pickChain(const QString& chain);
    void setPaused(bool paused);
    void setNotificationsEnabled(bool enabled);
    void retryNow(const QString& target);
    void refreshConnections();
    void readToken(const Config& config);
    void toggleConnection(const QString& client, bool on);
    void applyPreferences(const ui::SettingsDialog::Preferences& preferences);
    void notify(const std::optional<ui::Notification>& notification);
    void render();

    ProxyHost& m_host;
    QSettings m_settings;
    ui::StatusBoard m_board;
    ui::NotificationPolicy m_policy;
    ui::Tray m_tray;
    ui::StatusWindow m_window;
    QString m_proxyUrl;  // what `understudy connect` writes into a client's settings, once listening
    QByteArray m_token;       // the access token the running config requires (read with it), else empty
    QString m_tokenProblem;   // why it could not be read, when it is required but could not
    std::unique_ptr<ui::SettingsDialog> m_settingsDialog;
};

}  // namespace understudy
