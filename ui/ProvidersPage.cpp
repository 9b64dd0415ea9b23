#include "ProvidersPage.h"

#include "config/Secrets.h"

#include <QHBoxLayout>
#include <QMenu>
#include <QVBoxLayout>

namespace understudy::ui {
namespace {

const QStringList kTypes{"anthropic", "openai-chat", "openai-responses", "bedrock", "vertex", "azure-openai"};
const QStringList kAuths{"client", "key", "none"};

bool isHttpType(const QString& type) {
    return type == u"anthropic" || type == u"openai-chat" || type == u"openai-responses";
}

// What parseConfig assumes when a provider has no "auth": its key when it has one, else nothing.
QString authOf(const QJsonObject& fields) {
    if (fields.contains(QStringLiteral("auth")))
        return fields.value(QStringLiteral("auth")).toString();
    return fields.contains(QStringLiteral("apiKey")) ? QStringLiteral("key") : QStringLiteral("none");
}

// Whether `text` is, or is on its way to being, a secret reference. Anything else in the key field is most
// likely a pasted key: it is masked on screen (and refused on Apply).
bool isReferenceSoFar(const QString& text) {
    for (const QString prefix : {QStringLiteral("env:"), QStringLiteral("keychain:")})
        if (text.startsWith(prefix) || prefix.startsWith(text))
            return true;
    return false;
}

}  // namespace

ProvidersPage::ProvidersPage(ConfigDraft& draft, QWidget* parent)
    : QWidget(parent), m_draft(draft), m_presets(providerPresets()) {
    for (const char* field : {"", "type", "baseUrl", "auth", "apiKey"})
        m_errors.insert(QString::fromLatin1(field), new FieldError(this));

    auto* presets = new QMenu(this);
    for (int i = 0; i < m_presets.size(); ++i)
        connect(presets->addAction(m_presets[i].name), &QAction::triggered, this, [this, i] { addPreset(i); });
    m_add.setText(QStringLiteral("Add"));
    m_add.setMenu(presets);
    m_add.setPopupMode(QToolButton::InstantPopup);
    connect(&m_delete, &QPushButton::clicked, this, &ProvidersPage::deleteSelected);

    m_list.setIconSize(QSize(16, 16));
    auto* left = new QVBoxLayout;
    left->addWidget(&m_list);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(&m_add);
    buttons->addWidget(&m_delete);
    buttons->addStretch();
    left->addLayout(buttons);

    m_type.addItems(kTypes);
    m_auth.addItem(QStringLiteral("Your client's own login or key"), QStringLiteral("client"));
    m_auth.addItem(QStringLiteral("The key below"), QStringLiteral("key"));
    m_auth.addItem(QStringLiteral("None (a local server)"), QStringLiteral("none"));
    m_apiKey.setPlaceholderText(QStringLiteral("keychain:NAME or env:NAME"));
    m_apiKey.setToolTip(QStringLiteral("Where the key is kept, never the key itself: keychain:NAME for the system "
                                       "keychain, env:NAME for an environment variable"));
    m_note.setWordWrap(true);
    m_keyStatus.setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_form = new QFormLayout;
    m_form->addRow(QStringLiteral("Name:"), withError(&m_id, m_errors.value(QString())));
    m_form->addRow(QStringLiteral("Type:"), withError(&m_type, m_errors.value(QStringLiteral("type"))));
    m_baseUrlRow = withError(&m_baseUrl, m_errors.value(QStringLiteral("baseUrl")));
    m_form->addRow(QStringLiteral("Base URL:"), m_baseUrlRow);
    m_authRow = withError(&m_auth, m_errors.value(QStringLiteral("auth")));
    m_form->addRow(QStringLiteral("Credentials:"), m_authRow);
    m_apiKeyRow = withError(&m_apiKey, m_errors.value(QStringLiteral("apiKey")));
    m_form->addRow(QStringLiteral("Key:"), m_apiKeyRow);
    m_form->addRow(QString(), &m_keyStatus);
    m_form->addRow(QString(), &m_note);
    m_test.setToolTip(QStringLiteral("Ask the provider for its model list with these settings (costs no tokens)"));
    m_testResult.setWordWrap(true);
    m_testResult.setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* test = new QHBoxLayout;
    test->addWidget(&m_test);
    test->addWidget(&m_testResult, 1);
    m_form->addRow(QString(), test);
    connect(&m_test, &QPushButton::clicked, this, [this] {
        const ConfigDraft::Provider* provider = m_draft.provider(selected());
        if (!provider)
            return;
        m_test.setEnabled(false);
        m_testResult.setText(QStringLiteral("Testing…"));
        m_tester.start(provider->id, provider->fields);
    });
    connect(&m_tester, &ProviderTest::finished, this, [this](bool ok, const QString& message) {
        m_test.setEnabled(true);
        m_testResult.setText((ok ? QStringLiteral("✔ ") : QStringLiteral("✘ ")) + message);
    });

    auto* layout = new QHBoxLayout(this);
    layout->addLayout(left, 2);
    layout->addLayout(m_form, 5);

    connect(&m_list, &QListWidget::currentTextChanged, this, &ProvidersPage::showProvider);
    connect(&m_type, &QComboBox::activated, this, [this] {
        setField(QStringLiteral("type"), m_type.currentText());
        showProvider(selected());
    });
    connect(&m_baseUrl, &QLineEdit::textEdited, this, [this](const QString& text) { setField(urlKey(), text); });
    connect(&m_auth, &QComboBox::activated, this, [this] {
        setField(QStringLiteral("auth"), m_auth.currentData().toString());
        showProvider(selected());
    });
    connect(&m_apiKey, &QLineEdit::textEdited, this, [this](const QString& text) {
        setField(keyKey(), text.trimmed());
        updateKeyStatus();
    });
}

void ProvidersPage::load() {
    const QString keep = selected();
    m_list.clear();
    for (const ConfigDraft::Provider& provider : m_draft.providers)
        m_list.addItem(provider.id);
    const QList<QListWidgetItem*> found = m_list.findItems(keep, Qt::MatchExactly);
    m_list.setCurrentRow(found.isEmpty() ? 0 : m_list.row(found.first()));
    if (m_list.count() == 0)
        showProvider({});
    showErrors();
}

QString ProvidersPage::selected() const {
    return m_list.currentItem() ? m_list.currentItem()->text() : QString();
}

void ProvidersPage::reveal(const QString& provider) {
    const QList<QListWidgetItem*> found = m_list.findItems(provider, Qt::MatchExactly);
    if (!found.isEmpty())
        m_list.setCurrentItem(found.first());
}

void ProvidersPage::setProblems(const QList<ProblemPlace>& problems) {
    m_problems = problems;
    showErrors();
}

FieldError& ProvidersPage::error(const QString& field) { return *m_errors.value(field); }

// The list marks every provider with a problem; the fields show the selected provider's.
void ProvidersPage::showErrors() {
    for (int row = 0; row < m_list.count(); ++row) {
        QListWidgetItem* item = m_list.item(row);
        QStringList messages;
        for (const ProblemPlace& p : std::as_const(m_problems))
            if (p.item == item->text())
                messages.append(p.message);
        item->setForeground(messages.isEmpty() ? palette().text() : QBrush(QColor(0xc0, 0x1c, 0x28)));
        item->setIcon(messages.isEmpty() ? QIcon() : style()->standardIcon(QStyle::SP_MessageBoxWarning));
        item->setToolTip(messages.join(u'\n'));
    }
    // A problem with a field the provider's type does not show (a baseUrl left on a bedrock provider) goes
    // under its name, where it is seen.
    const auto shown = [this](const QString& field) {
        return m_errors.contains(field) && m_errors.value(field)->parentWidget()->isVisibleTo(this);
    };
    QMap<QString, QStringList> byField;
    for (const ProblemPlace& p : std::as_const(m_problems))
        if (p.item == selected())
            byField[shown(p.field) ? p.field : QString()].append(p.message);
    for (auto it = m_errors.begin(); it != m_errors.end(); ++it)
        it.value()->setMessages(byField.value(it.key()));
}

void ProvidersPage::showProvider(const QString& id) {
    const ConfigDraft::Provider* provider = m_draft.provider(id);
    m_delete.setEnabled(provider);
    for (QWidget* field : {static_cast<QWidget*>(&m_type), static_cast<QWidget*>(&m_baseUrl),
                           static_cast<QWidget*>(&m_auth), static_cast<QWidget*>(&m_apiKey)})
        field->setEnabled(provider);
    const QJsonObject fields = provider ? provider->fields : QJsonObject();
    const QString type = fields.value(QStringLiteral("type")).toString();
    m_id.setText(id);
    m_testResult.clear();
    m_test.setEnabled(provider);
    m_type.setCurrentIndex(kTypes.indexOf(type));
    m_baseUrl.setText(fields.value(urlKey()).toString());
    m_auth.setCurrentIndex(kAuths.indexOf(authOf(fields)));
    m_apiKey.setText(fields.value(keyKey()).toString());
    // Cloud providers have more settings than these fields; they are kept as the file has them.
    const bool http = isHttpType(type);
    m_form->setRowVisible(m_baseUrlRow, http || type == u"azure-openai");
    m_form->setRowVisible(m_authRow, http);
    m_form->setRowVisible(m_apiKeyRow, http || type == u"azure-openai");
    m_note.setText(provider && !http ? QStringLiteral("Its other settings (region, project, credentials) are kept "
                                                      "as the config file has them; edit them there.")
                                     : QString());
    m_note.setVisible(!m_note.text().isEmpty());
    updateKeyStatus();
    showErrors();
}

QString ProvidersPage::urlKey() const {
    return m_type.currentText() == u"azure-openai" ? QStringLiteral("endpoint") : QStringLiteral("baseUrl");
}

QString ProvidersPage::keyKey() const { return QStringLiteral("apiKey"); }

void ProvidersPage::setField(const QString& key, const QString& value) {
    ConfigDraft::Provider* provider = m_draft.provider(selected());
    if (!provider)
        return;
    if (value.isEmpty())
        provider->fields.remove(key);
    else
        provider->fields.insert(key, value);
}

// The key is looked up to say whether it is there; only its presence is shown, never a character of it.
void ProvidersPage::updateKeyStatus() {
    const QString reference = m_apiKey.text().trimmed();
    m_apiKey.setEchoMode(isReferenceSoFar(reference) ? QLineEdit::Normal : QLineEdit::Password);
    const bool relevant = m_apiKeyRow->isVisibleTo(this) && !reference.isEmpty() && isSecretReference(reference);
    m_keyStatus.setVisible(relevant);
    if (!relevant)
        return;
    const SecretLookup lookup = resolveSecret(reference, QStringLiteral("provider '%1'").arg(selected()));
    m_keyStatus.setText(lookup.error.isEmpty() ? QStringLiteral("●●●●●●●● (found)") : lookup.error);
}

void ProvidersPage::addPreset(int index) {
    const ProviderPreset& preset = m_presets.at(index);
    QString id = preset.id;
    for (int n = 2; m_draft.provider(id); ++n)
        id = QStringLiteral("%1-%2").arg(preset.id).arg(n);
    m_draft.providers.append({id, preset.fields});
    load();
    reveal(id);
    Q_EMIT providersChanged();
}

void ProvidersPage::deleteSelected() {
    const int row = m_list.currentRow();
    if (row < 0)
        return;
    m_draft.providers.removeAt(row);
    load();
    m_list.setCurrentRow(std::min(row, m_list.count() - 1));
    Q_EMIT providersChanged();
}

}  // namespace understudy::ui
