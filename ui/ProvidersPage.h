#pragma once

#include "ConfigDraft.h"
#include "FieldError.h"
#include "ProblemPlace.h"
#include "ProviderPresets.h"
#include "ProviderTest.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QToolButton>

namespace understudy::ui {

// Settings → Providers: the providers of the draft, added from a preset, edited, deleted. A provider's key is
// a reference (keychain:NAME or env:NAME); the key it refers to is only ever shown masked.
class ProvidersPage : public QWidget {
    Q_OBJECT
public:
    explicit ProvidersPage(ConfigDraft& draft, QWidget* parent = nullptr);

    void load();  // after the draft was replaced
    void setProblems(const QList<ProblemPlace>& problems);
    void reveal(const QString& provider);

    QListWidget& list() { return m_list; }
    QString selected() const;
    void addPreset(int index);  // as the "Add" menu's entry `index` does
    void deleteSelected();
    QComboBox& type() { return m_type; }
    QLineEdit& baseUrl() { return m_baseUrl; }
    QComboBox& auth() { return m_auth; }
    QLineEdit& keyReference() { return m_apiKey; }
    QLabel& keyStatus() { return m_keyStatus; }
    QPushButton& testButton() { return m_test; }
    QLabel& testResult() { return m_testResult; }
    FieldError& error(const QString& field);

Q_SIGNALS:
    void providersChanged();  // added or deleted: the chain editor offers the new list

private:
    void showProvider(const QString& provider);
    void showErrors();
    void setField(const QString& key, const QString& value);
    QString urlKey() const;
    QString keyKey() const;
    void updateKeyStatus();

    ConfigDraft& m_draft;
    QList<ProblemPlace> m_problems;
    QListWidget m_list;
    QToolButton m_add;
    QPushButton m_delete{QStringLiteral("Delete")};
    QLabel m_id;
    QComboBox m_type;
    QLineEdit m_baseUrl;
    QComboBox m_auth;
    QLineEdit m_apiKey;
    QLabel m_keyStatus;
    QLabel m_note;
    QPushButton m_test{QStringLiteral("Test")};
    QLabel m_testResult;
    ProviderTest m_tester;
    QFormLayout* m_form = nullptr;
    QWidget* m_baseUrlRow = nullptr;
    QWidget* m_authRow = nullptr;
    QWidget* m_apiKeyRow = nullptr;
    QList<ProviderPreset> m_presets;
    QMap<QString, FieldError*> m_errors;
};

}  // namespace understudy::ui
