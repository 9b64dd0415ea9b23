#include "ChainsPage.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QVBoxLayout>

namespace understudy::ui {
namespace {

QString stepText(int index, const ConfigDraft::Step& step) {
    QString model;
    switch (step.model.kind) {
    case ModelMapping::Kind::Keep: model = QStringLiteral("the requested model"); break;
    case ModelMapping::Kind::Replace: model = step.model.model; break;
    case ModelMapping::Kind::Map:
        model = step.model.globs.size() == 1 ? QStringLiteral("1 model rule")
                                             : QStringLiteral("%1 model rules").arg(step.model.globs.size());
        break;
    }
    return QStringLiteral("%1. %2 — %3").arg(index + 1).arg(step.provider, model);
}

}  // namespace

ChainsPage::ChainsPage(ConfigDraft& draft, QWidget* parent) : QWidget(parent), m_draft(draft) {
    for (const char* field : {"chain", "steps", "step", "provider", "model"})
        m_errors.insert(QString::fromLatin1(field), new FieldError(this));

    m_steps.setDragDropMode(QAbstractItemView::InternalMove);
    m_steps.setIconSize(QSize(16, 16));
    m_steps.setDefaultDropAction(Qt::MoveAction);
    m_steps.setToolTip(QStringLiteral("Tried from the top: drag a step to change its priority"));
    m_provider.setEditable(true);
    m_provider.setInsertPolicy(QComboBox::NoInsert);
    m_modelKind.addItem(QStringLiteral("Keep the requested model"));
    m_modelKind.addItem(QStringLiteral("Ask for this model"));
    m_modelKind.addItem(QStringLiteral("Pick the model by rules"));
    m_model.setPlaceholderText(QStringLiteral("e.g. glm-5"));
    m_map.setHorizontalHeaderLabels({QStringLiteral("Requested model (glob)"), QStringLiteral("Model to ask for")});
    m_map.horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_map.verticalHeader()->hide();
    m_map.setToolTip(QStringLiteral("The first rule whose glob matches wins; * matches any run of characters"));

    auto* top = new QFormLayout;
    top->addRow(QStringLiteral("Chain:"), withError(&m_chain, m_errors.value(QStringLiteral("chain"))));

    auto* stepButtons = new QHBoxLayout;
    stepButtons->addWidget(&m_addStep);
    stepButtons->addWidget(&m_removeStep);
    stepButtons->addStretch();
    auto* left = new QVBoxLayout;
    auto* hint = new QLabel(QStringLiteral("Tried from the top. Drag a step to change its place."));
    hint->setWordWrap(true);
    left->addWidget(hint);
    left->addWidget(withError(&m_steps, m_errors.value(QStringLiteral("steps"))));
    left->addLayout(stepButtons);

    m_mapBox = new QWidget;
    auto* mapLayout = new QVBoxLayout(m_mapBox);
    mapLayout->setContentsMargins(0, 0, 0, 0);
    mapLayout->addWidget(&m_map);
    auto* ruleButtons = new QHBoxLayout;
    ruleButtons->addWidget(&m_addRule);
    ruleButtons->addWidget(&m_removeRule);
    ruleButtons->addStretch();
    mapLayout->addLayout(ruleButtons);
    auto* model = new QVBoxLayout;
    model->setContentsMargins(0, 0, 0, 0);
    model->addWidget(&m_modelKind);
    model->addWidget(&m_model);
    model->addWidget(m_mapBox);
    auto* modelBox = new QWidget;
    modelBox->setLayout(model);

    auto* stepForm = new QFormLayout;
    stepForm->addRow(QStringLiteral("Provider:"), withError(&m_provider, m_errors.value(QStringLiteral("provider"))));
    stepForm->addRow(QStringLiteral("Model:"), withError(modelBox, m_errors.value(QStringLiteral("model"))));
    stepForm->addRow(QString(), m_errors.value(QStringLiteral("step")));
    auto* stepGroup = new QGroupBox(QStringLiteral("Selected step"));
    stepGroup->setLayout(stepForm);
    m_stepBox = stepGroup;

    auto* body = new QHBoxLayout;
    body->addLayout(left, 2);
    body->addWidget(stepGroup, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(body);

    connect(&m_chain, &QComboBox::currentTextChanged, this, &ChainsPage::showChain);
    connect(&m_steps, &QListWidget::currentRowChanged, this, &ChainsPage::showStep);
    // A drag in the list moves a row of its model; the draft follows.
    connect(m_steps.model(), &QAbstractItemModel::rowsMoved, this,
            [this](const QModelIndex&, int from, int, const QModelIndex&, int to) { stepsMoved(from, to); });
    connect(&m_addStep, &QPushButton::clicked, this, [this] {
        if (ConfigDraft::Chain* chain = this->chain()) {
            chain->steps.append({m_draft.providers.isEmpty() ? QString() : m_draft.providers.first().id, {}, {}});
            showChain();
            m_steps.setCurrentRow(m_steps.count() - 1);
        }
    });
    connect(&m_removeStep, &QPushButton::clicked, this, [this] {
        ConfigDraft::Chain* chain = this->chain();
        const int row = m_steps.currentRow();
        if (!chain || row < 0)
            return;
        chain->steps.removeAt(row);
        showChain();
        m_steps.setCurrentRow(std::min(row, static_cast<int>(chain->steps.size()) - 1));
    });
    connect(&m_provider, &QComboBox::currentTextChanged, this, [this](const QString& text) {
        if (ConfigDraft::Step* step = this->step(); step && !m_loading) {
            step->provider = text.trimmed();
            refreshStepTexts();
        }
    });
    connect(&m_modelKind, &QComboBox::activated, this, [this](int kind) {
        if (ConfigDraft::Step* step = this->step()) {
            step->model.kind = static_cast<ModelMapping::Kind>(kind);
            if (step->model.kind == ModelMapping::Kind::Map && step->model.globs.isEmpty())
                step->model.globs.append({QStringLiteral("*"), step->model.model});
            showStep();
        }
    });
    connect(&m_model, &QLineEdit::textEdited, this, [this](const QString& text) {
        if (ConfigDraft::Step* step = this->step()) {
            step->model.model = text.trimmed();
            refreshStepTexts();
        }
    });
    connect(&m_map, &QTableWidget::itemChanged, this, [this] {
        if (!m_loading)
            readMap();
    });
    connect(&m_addRule, &QPushButton::clicked, this, [this] {
        if (ConfigDraft::Step* step = this->step()) {
            step->model.globs.append({QString(), QString()});
            showStep();
            m_map.setCurrentCell(m_map.rowCount() - 1, 0);
        }
    });
    connect(&m_removeRule, &QPushButton::clicked, this, [this] {
        ConfigDraft::Step* step = this->step();
        if (step && m_map.currentRow() >= 0) {
            step->model.globs.removeAt(m_map.currentRow());
            showStep();
        }
    });
}

FieldError& ChainsPage::error(const QString& field) { return *m_errors.value(field); }

void ChainsPage::load() {
    const QString keep = m_chain.currentText();
    m_loading = true;
    m_chain.clear();
    for (const ConfigDraft::Chain& chain : m_draft.chains)
        m_chain.addItem(chain.id);
    m_loading = false;
    const int index = m_chain.findText(keep.isEmpty() ? m_draft.activeChain : keep);
    m_chain.setCurrentIndex(std::max(index, 0));
    providersChanged();
    showChain();
}

void ChainsPage::providersChanged() {
    m_loading = true;
    const QString current = m_provider.currentText();
    m_provider.clear();
    for (const ConfigDraft::Provider& provider : m_draft.providers)
        m_provider.addItem(provider.id);
    m_provider.setCurrentText(current);
    m_loading = false;
    showStep();
}

ConfigDraft::Chain* ChainsPage::chain() { return m_draft.chain(m_chain.currentText()); }

ConfigDraft::Step* ChainsPage::step() {
    ConfigDraft::Chain* chain = this->chain();
    const int row = m_steps.currentRow();
    return chain && row >= 0 && row < chain->steps.size() ? &chain->steps[row] : nullptr;
}

void ChainsPage::showChain() {
    if (m_loading)
        return;
    const int row = m_steps.currentRow();
    m_loading = true;
    m_steps.clear();
    if (ConfigDraft::Chain* chain = this->chain())
        for (int i = 0; i < chain->steps.size(); ++i)
            m_steps.addItem(stepText(i, chain->steps[i]));
    m_loading = false;
    m_steps.setCurrentRow(std::clamp(row, 0, m_steps.count() - 1));
    m_addStep.setEnabled(chain());
    showStep();
}

void ChainsPage::showStep() {
    if (m_loading)
        return;
    const ConfigDraft::Step* step = this->step();
    m_stepBox->setEnabled(step);
    m_removeStep.setEnabled(step);
    m_loading = true;
    m_provider.setCurrentText(step ? step->provider : QString());
    const ModelMapping mapping = step ? step->model : ModelMapping();
    m_modelKind.setCurrentIndex(static_cast<int>(mapping.kind));
    m_model.setText(mapping.model);
    m_model.setVisible(mapping.kind == ModelMapping::Kind::Replace);
    m_mapBox->setVisible(mapping.kind == ModelMapping::Kind::Map);
    m_map.setRowCount(static_cast<int>(mapping.globs.size()));
    for (int row = 0; row < mapping.globs.size(); ++row) {
        m_map.setItem(row, 0, new QTableWidgetItem(mapping.globs[row].first));
        m_map.setItem(row, 1, new QTableWidgetItem(mapping.globs[row].second));
    }
    m_loading = false;
    showErrors();
}

void ChainsPage::refreshStepTexts() {
    if (ConfigDraft::Chain* chain = this->chain())
        for (int i = 0; i < m_steps.count() && i < chain->steps.size(); ++i)
            m_steps.item(i)->setText(stepText(i, chain->steps[i]));
}

// rowsMoved's `to` is the row the item was dropped before, counted before it left its place.
void ChainsPage::stepsMoved(int from, int to) {
    ConfigDraft::Chain* chain = this->chain();
    if (m_loading || !chain)
        return;
    const int destination = to > from ? to - 1 : to;
    chain->steps.move(from, destination);
    refreshStepTexts();
    showErrors();
}

void ChainsPage::readMap() {
    ConfigDraft::Step* step = this->step();
    if (!step)
        return;
    step->model.globs.clear();
    for (int row = 0; row < m_map.rowCount(); ++row) {
        auto text = [&](int column) {
            const QTableWidgetItem* cell = m_map.item(row, column);
            return cell ? cell->text().trimmed() : QString();
        };
        step->model.globs.append({text(0), text(1)});
    }
    refreshStepTexts();
}

void ChainsPage::setProblems(const QList<ProblemPlace>& problems) {
    m_problems = problems;
    showErrors();
}

void ChainsPage::reveal(const QString& chain, int step) {
    m_chain.setCurrentText(chain);
    if (step >= 0)
        m_steps.setCurrentRow(step);
}

// The chain picker and the step list mark where problems are; the fields show the selected step's.
void ChainsPage::showErrors() {
    const QString chain = m_chain.currentText();
    QMap<QString, QStringList> byField;
    QMap<int, QStringList> bySteps;
    QStringList otherChains;
    for (const ProblemPlace& p : std::as_const(m_problems)) {
        if (p.item != chain) {
            if (!otherChains.contains(p.item))
                otherChains.append(p.item);
            continue;
        }
        if (p.step < 0) {
            byField[p.field == u"steps" ? QStringLiteral("steps") : QStringLiteral("chain")].append(p.message);
            continue;
        }
        bySteps[p.step].append(p.message);
        if (p.step == m_steps.currentRow())
            byField[p.field == u"provider" || p.field == u"model" ? p.field : QStringLiteral("step")].append(p.message);
    }
    if (!otherChains.isEmpty())
        byField[QStringLiteral("chain")].append(
            QStringLiteral("chain %1 has problems too").arg(otherChains.join(QStringLiteral(", "))));
    for (auto it = m_errors.begin(); it != m_errors.end(); ++it)
        it.value()->setMessages(byField.value(it.key()));
    for (int row = 0; row < m_steps.count(); ++row) {
        QListWidgetItem* item = m_steps.item(row);
        const QStringList messages = bySteps.value(row);
        item->setForeground(messages.isEmpty() ? palette().text() : QBrush(QColor(0xc0, 0x1c, 0x28)));
        item->setIcon(messages.isEmpty() ? QIcon() : style()->standardIcon(QStyle::SP_MessageBoxWarning));
        item->setToolTip(messages.join(u'\n'));
    }
}

}  // namespace understudy::ui
