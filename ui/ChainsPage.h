#pragma once

#include "ConfigDraft.h"
#include "FieldError.h"
#include "ProblemPlace.h"

#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QTableWidget>

namespace understudy::ui {

// Settings → Chains: a chain's steps in priority order. Drag a step to reorder; each step names its provider
// and what it asks that provider for: the requested model, another model, or a model per glob.
class ChainsPage : public QWidget {
    Q_OBJECT
public:
    explicit ChainsPage(ConfigDraft& draft, QWidget* parent = nullptr);

    void load();  // after the draft was replaced
    void providersChanged();
    void setProblems(const QList<ProblemPlace>& problems);
    void reveal(const QString& chain, int step);

    QComboBox& chainPicker() { return m_chain; }
    QListWidget& steps() { return m_steps; }
    QComboBox& provider() { return m_provider; }
    QComboBox& modelKind() { return m_modelKind; }
    QLineEdit& model() { return m_model; }
    QTableWidget& modelMap() { return m_map; }
    QPushButton& addStep() { return m_addStep; }
    QPushButton& removeStep() { return m_removeStep; }
    QPushButton& addRule() { return m_addRule; }
    FieldError& error(const QString& field);

private:
    ConfigDraft::Chain* chain();
    ConfigDraft::Step* step();
    void showChain();
    void showStep();
    void showErrors();
    void refreshStepTexts();
    void stepsMoved(int from, int to);
    void readMap();

    ConfigDraft& m_draft;
    QList<ProblemPlace> m_problems;
    bool m_loading = false;  // filling the fields from the draft: their change signals are not edits
    QComboBox m_chain;
    QListWidget m_steps;
    QPushButton m_addStep{QStringLiteral("Add step")};
    QPushButton m_removeStep{QStringLiteral("Remove step")};
    QComboBox m_provider;
    QComboBox m_modelKind;
    QLineEdit m_model;
    QTableWidget m_map{0, 2};
    QPushButton m_addRule{QStringLiteral("Add rule")};
    QPushButton m_removeRule{QStringLiteral("Remove rule")};
    QWidget* m_mapBox = nullptr;
    QWidget* m_stepBox = nullptr;
    QMap<QString, FieldError*> m_errors;  // "chain", "steps", "step", "provider", "model"
};

}  // namespace understudy::ui
