#pragma once

#include "ChainsPage.h"
#include "ConfigDraft.h"
#include "FieldError.h"
#include "ProvidersPage.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QTabWidget>

namespace understudy::ui {

// Settings: providers, chains, failover timings, listen port, launch at login, notifications.
// It edits a draft of the config file; Apply or OK validates the document it would write with the proxy's
// own parseConfig, shows each problem under the field it is about and saves nothing until there are none.
// A valid document is saved atomically, and the running proxy reloads it.
class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    // The settings kept outside the config file (tray.ini and the OS's launch-at-login entry).
    struct Preferences {
        bool notifications = true;
        bool launchAtLogin = false;
        bool operator==(const Preferences&) const = default;
    };

    explicit SettingsDialog(const QString& configPath, QWidget* parent = nullptr);

    // Reads the config file and `preferences` into the fields, dropping unsaved edits.
    void reload(const Preferences& preferences);
    // Validates and saves. Returns whether everything was saved (nothing is, when anything is invalid).
    bool apply();
    // Shown under the launch-at-login box when the entry could not be written.
    void setLaunchAtLoginError(const QString& message);

    QTabWidget& tabs() { return m_tabs; }
    ProvidersPage& providers() { return *m_providers; }
    ChainsPage& chains() { return *m_chains; }
    QSpinBox& port() { return m_port; }
    QSpinBox& failoverSetting(const QString& key) { return *m_failover.value(key); }
    QLineEdit& triggerCodes() { return m_codes; }
    QCheckBox& launchAtLogin() { return m_launchAtLogin; }
    QCheckBox& notifications() { return m_notifications; }
    QLabel& summary() { return m_summary; }
    FieldError& error(const QString& field) { return *m_errors.value(field); }  // failover and listen fields
    QDialogButtonBox& buttons() { return m_buttons; }

Q_SIGNALS:
    void configSaved();
    void preferencesApplied(const understudy::ui::SettingsDialog::Preferences& preferences);

private:
    QWidget* failoverPage();
    QWidget* generalPage();
    void showFields();
    QStringList readTriggerCodes();
    void showProblems(const QList<ConfigProblem>& problems);
    QByteArray readFile(QString* error) const;

    QString m_path;
    bool m_filling = false;  // the fields are being filled from the draft: their change signals are not edits
    ConfigDraft m_draft;
    ConfigDraft m_baseline;  // the draft as last read or saved: only what differs from it is written
    Preferences m_preferences;
    QTabWidget m_tabs;
    ProvidersPage* m_providers = nullptr;
    ChainsPage* m_chains = nullptr;
    QLineEdit m_codes;
    QMap<QString, QSpinBox*> m_failover;
    QSpinBox m_port;
    QLabel m_host;
    QCheckBox m_launchAtLogin{QStringLiteral("Start Understudy when I log in")};
    QCheckBox m_notifications{QStringLiteral("Show a notification when the serving model changes")};
    QMap<QString, FieldError*> m_errors;
    QLabel m_summary;
    QDialogButtonBox m_buttons{QDialogButtonBox::Ok | QDialogButtonBox::Apply | QDialogButtonBox::Cancel};
};

}  // namespace understudy::ui
