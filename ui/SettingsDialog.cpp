#include "SettingsDialog.h"

#include "config/ConfigFile.h"

#include <QDir>
#include <QFile>
#include <QFormLayout>
#include <QJsonArray>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

namespace understudy::ui {
namespace {

struct FailoverField {
    const char* key;
    const char* label;
    int FailoverConfig::*defaultValue;
    const char* suffix;
};

// In the order a request meets them.
constexpr FailoverField kFailoverFields[] = {
    {"connectTimeoutMs", "Connect timeout:", &FailoverConfig::connectTimeoutMs, " ms"},
    {"firstTokenTimeoutMs", "First token timeout:", &FailoverConfig::firstTokenTimeoutMs, " ms"},
    {"firstTokenTimeoutPer100kTokensMs", "… plus, per 100k prompt tokens:",
     &FailoverConfig::firstTokenTimeoutPer100kTokensMs, " ms"},
    {"streamIdleTimeoutMs", "Stream idle timeout:", &FailoverConfig::streamIdleTimeoutMs, " ms"},
    {"totalBudgetMs", "Whole request budget:", &FailoverConfig::totalBudgetMs, " ms"},
    {"retriesBeforeFailover", "Retries before failing over:", &FailoverConfig::retriesBeforeFailover, ""},
    {"maxRetryAfterWaitMs", "Wait for retry-after up to:", &FailoverConfig::maxRetryAfterWaitMs, " ms"},
    {"primaryRecoveryCheckIntervalMs", "Try a cooling model again every:",
     &FailoverConfig::primaryRecoveryCheckIntervalMs, " ms"},
};

const QString kCodes = QStringLiteral("triggerOnStatusCodes");

QList<int> codesOf(const QJsonObject& failover) {
    if (!failover.contains(kCodes))
        return FailoverConfig().triggerOnStatusCodes;
    QList<int> codes;
    for (const QJsonValue& code : failover.value(kCodes).toArray())
        codes.append(code.toInt());
    return codes;
}

QString codesText(const QList<int>& codes) {
    QStringList parts;
    for (int code : codes)
        parts.append(QString::number(code));
    return parts.join(QStringLiteral(", "));
}

ProblemPlace::Page pageOf(int tab) { return static_cast<ProblemPlace::Page>(tab); }

}  // namespace

SettingsDialog::SettingsDialog(const QString& configPath, QWidget* parent) : QDialog(parent), m_path(configPath) {
    setWindowTitle(QStringLiteral("Understudy settings"));
    m_providers = new ProvidersPage(m_draft);
    m_chains = new ChainsPage(m_draft);
    // Same order as ProblemPlace::Page.
    m_tabs.addTab(m_providers, QStringLiteral("Providers"));
    m_tabs.addTab(m_chains, QStringLiteral("Chains"));
    m_tabs.addTab(failoverPage(), QStringLiteral("Failover"));
    m_tabs.addTab(generalPage(), QStringLiteral("General"));
    connect(m_providers, &ProvidersPage::providersChanged, m_chains, &ChainsPage::providersChanged);

    m_summary.setWordWrap(true);
    m_summary.setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(&m_tabs);
    layout->addWidget(&m_summary);
    layout->addWidget(&m_buttons);
    connect(&m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(&m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (apply())
            accept();
    });
    connect(m_buttons.button(QDialogButtonBox::Apply), &QPushButton::clicked, this, &SettingsDialog::apply);
    resize(760, 500);
}

QWidget* SettingsDialog::failoverPage() {
    auto* page = new QWidget;
    auto* form = new QFormLayout(page);
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    auto addError = [this](const QString& key) { return m_errors[key] = new FieldError; };
    m_codes.setMinimumWidth(m_codes.fontMetrics().horizontalAdvance(QStringLiteral("429, 500, 502, 503, 504, 529, 000")));
    m_codes.setPlaceholderText(QStringLiteral("429, 500, 502, 503, 504, 529"));
    m_codes.setToolTip(QStringLiteral("HTTP statuses from a provider that move the request on to the next step"));
    form->addRow(QStringLiteral("Fail over on status:"), withError(&m_codes, addError(kCodes)));
    for (const FailoverField& field : kFailoverFields) {
        const QString key = QString::fromLatin1(field.key);
        auto* spin = new QSpinBox;
        spin->setRange(0, 24 * 3600 * 1000);
        spin->setSingleStep(key.endsWith(QLatin1String("Ms")) ? 500 : 1);
        spin->setSuffix(QString::fromUtf8(field.suffix));
        spin->setGroupSeparatorShown(true);
        m_failover.insert(key, spin);
        form->addRow(QString::fromUtf8(field.label), withError(spin, addError(key)));
        connect(spin, &QSpinBox::valueChanged, this, [this, key](int value) {
            if (!m_filling)
                m_draft.failover.insert(key, value);
        });
    }
    return page;
}

QWidget* SettingsDialog::generalPage() {
    auto* page = new QWidget;
    auto* form = new QFormLayout(page);
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    m_port.setRange(1, 65535);
    m_port.setToolTip(QStringLiteral("Clients are set up with this port: change it in their settings too"));
    m_errors[QStringLiteral("port")] = new FieldError;
    m_errors[QStringLiteral("launchAtLogin")] = new FieldError;
    form->addRow(QStringLiteral("Listen on:"), &m_host);
    form->addRow(QStringLiteral("Port:"), withError(&m_port, m_errors.value(QStringLiteral("port"))));
    form->addRow(QString(), withError(&m_launchAtLogin, m_errors.value(QStringLiteral("launchAtLogin"))));
    form->addRow(QString(), &m_notifications);
    connect(&m_port, &QSpinBox::valueChanged, this, [this](int port) {
        if (!m_filling)
            m_draft.listen.insert(QStringLiteral("port"), port);
    });
    return page;
}

QByteArray SettingsDialog::readFile(QString* error) const {
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(QDir::toNativeSeparators(m_path), file.errorString());
        return {};
    }
    return file.readAll();
}

void SettingsDialog::reload(const Preferences& preferences) {
    QString error;
    const std::optional<ConfigDraft> draft = ConfigDraft::fromDocument(readFile(&error));
    m_draft = draft.value_or(ConfigDraft());
    m_baseline = m_draft;
    m_preferences = preferences;
    for (FieldError* field : std::as_const(m_errors))
        field->setMessages({});
    m_providers->setProblems({});
    m_chains->setProblems({});
    for (int tab = 0; tab < m_tabs.count(); ++tab)
        m_tabs.setTabIcon(tab, QIcon());
    m_summary.setText(draft ? QString()
                            : QStringLiteral("%1 does not validate, so it cannot be edited here; see understudy "
                                             "--check-config %1")
                                  .arg(QDir::toNativeSeparators(m_path)));
    m_buttons.button(QDialogButtonBox::Ok)->setEnabled(draft.has_value());
    m_buttons.button(QDialogButtonBox::Apply)->setEnabled(draft.has_value());
    showFields();
}

void SettingsDialog::showFields() {
    m_filling = true;
    m_providers->load();
    m_chains->load();
    m_codes.setText(codesText(codesOf(m_draft.failover)));
    const FailoverConfig defaults;
    for (const FailoverField& field : kFailoverFields)
        m_failover.value(QString::fromLatin1(field.key))
            ->setValue(m_draft.failover.value(QString::fromLatin1(field.key)).toInt(defaults.*field.defaultValue));
    const ListenConfig listen;
    m_host.setText(m_draft.listen.value(QStringLiteral("host")).toString(listen.host));
    m_port.setValue(m_draft.listen.value(QStringLiteral("port")).toInt(listen.port));
    m_launchAtLogin.setChecked(m_preferences.launchAtLogin);
    m_notifications.setChecked(m_preferences.notifications);
    m_filling = false;
}

// The codes as typed, into the draft when they changed. Returns what is not a status code.
QStringList SettingsDialog::readTriggerCodes() {
    QList<int> codes;
    QStringList wrong;
    for (const QString& part : m_codes.text().split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int code = part.toInt(&ok);
        if (ok)
            codes.append(code);
        else
            wrong.append(QStringLiteral("\"%1\" is not an HTTP status; write numbers such as 429, 503").arg(part));
    }
    if (wrong.isEmpty() && codes != codesOf(m_draft.failover)) {
        QJsonArray array;
        for (int code : codes)
            array.append(code);
        m_draft.failover.insert(kCodes, array);
    }
    return wrong;
}

bool SettingsDialog::apply() {
    QList<ConfigProblem> problems;
    for (const QString& message : readTriggerCodes())
        problems.append({QStringLiteral("$.failover.") + kCodes, message});
    QString error;
    const QByteArray disk = readFile(&error);
    if (!error.isEmpty()) {
        m_summary.setText(error);
        return false;
    }
    // Written over the file as it is now, not as it was when the dialog opened: a chain picked in the tray
    // meanwhile is kept.
    const QByteArray next = m_draft.appliedTo(disk, m_baseline);
    problems.append(parseConfig(next).problems);
    showProblems(problems);
    if (!problems.isEmpty())
        return false;
    if (next != disk) {
        if (const QString saveError = ConfigFile::save(m_path, next); !saveError.isEmpty()) {
            m_summary.setText(saveError);
            return false;
        }
        Q_EMIT configSaved();
    }
    m_baseline = m_draft;
    const Preferences preferences{m_notifications.isChecked(), m_launchAtLogin.isChecked()};
    if (preferences != m_preferences) {
        m_preferences = preferences;
        m_errors.value(QStringLiteral("launchAtLogin"))->setMessages({});
        Q_EMIT preferencesApplied(preferences);
    }
    if (m_summary.text().isEmpty() && next != disk)
        m_summary.setText(QStringLiteral("Saved to %1; the proxy uses it from the next request.")
                              .arg(QDir::toNativeSeparators(m_path)));
    return m_errors.value(QStringLiteral("launchAtLogin"))->text().isEmpty();
}

void SettingsDialog::setLaunchAtLoginError(const QString& message) {
    m_errors.value(QStringLiteral("launchAtLogin"))->setMessages({message});
    m_tabs.setCurrentIndex(static_cast<int>(ProblemPlace::Page::General));
}

void SettingsDialog::showProblems(const QList<ConfigProblem>& problems) {
    QList<ProblemPlace> providers, chains;
    QMap<QString, QStringList> fields;
    QStringList elsewhere;
    QList<ProblemPlace> placed;
    for (const ConfigProblem& problem : problems) {
        const ProblemPlace place = placeProblem(problem, m_draft);
        placed.append(place);
        if (place.page == ProblemPlace::Page::Providers)
            providers.append(place);
        else if (place.page == ProblemPlace::Page::Chains)
            chains.append(place);
        else if (m_errors.contains(place.field))
            fields[place.field].append(place.message);
        else
            elsewhere.append(QStringLiteral("%1: %2").arg(problem.path, problem.message));
    }
    m_providers->setProblems(providers);
    m_chains->setProblems(chains);
    for (auto it = m_errors.begin(); it != m_errors.end(); ++it)
        if (it.key() != u"launchAtLogin")
            it.value()->setMessages(fields.value(it.key()));
    for (int tab = 0; tab < m_tabs.count(); ++tab) {
        const bool marked =
            std::any_of(placed.begin(), placed.end(), [&](const ProblemPlace& p) { return p.page == pageOf(tab); });
        m_tabs.setTabIcon(tab, marked ? style()->standardIcon(QStyle::SP_MessageBoxWarning) : QIcon());
    }
    if (problems.isEmpty()) {
        m_summary.clear();
        return;
    }
    QStringList summary{problems.size() == 1
                            ? QStringLiteral("1 problem, marked in red; nothing was saved.")
                            : QStringLiteral("%1 problems, marked in red; nothing was saved.").arg(problems.size())};
    summary.append(elsewhere);
    m_summary.setText(summary.join(u'\n'));
    const ProblemPlace& first = placed.first();
    m_tabs.setCurrentIndex(static_cast<int>(first.page));
    if (first.page == ProblemPlace::Page::Providers)
        m_providers->reveal(first.item);
    else if (first.page == ProblemPlace::Page::Chains)
        m_chains->reveal(first.item, first.step);
}

}  // namespace understudy::ui
