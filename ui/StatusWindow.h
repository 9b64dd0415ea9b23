#pragma once

#include "ClientsPanel.h"
#include "Status.h"
#include "UsageChart.h"

#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>
#include <QWidget>

namespace understudy::ui {

// The status window: who serves now and since when, the listen address, per-target health with "Retry now",
// the last switches, and usage (today and this month per provider, failover figures, requests per hour).
// Renders a Status; "Retry now" comes back as a signal. Sections stack in one vertical layout.
class StatusWindow : public QWidget {
    Q_OBJECT
public:
    explicit StatusWindow(QWidget* parent = nullptr);

    void render(const Status& status);
    void bringToFront();

    // For tests and screenshots: what the window shows.
    QString headline() const { return m_headline->text(); }
    const QTreeWidget& targets() const { return *m_targets; }
    const QTreeWidget& switches() const { return *m_switches; }
    const QTreeWidget& usage() const { return *m_usage; }  // "Today" and "This month", a child row per provider
    const UsageChart& usageChart() const { return *m_chart; }
    QString failoverSummary() const { return m_failovers->text(); }
    QString usageNote() const { return m_usageNote->text(); }

Q_SIGNALS:
    void retryRequested(const QString& target);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void renderShown();
    void renderAddress(const Status& status);
    void renderTargets(const Status& status, qint64 nowMs);
    void renderSwitches(const Status& status);
    QWidget* usageSection();
    void renderUsage(const Status& status);

    QLabel* m_headline;
    QLabel* m_problem;
    QLineEdit* m_address;
    QPushButton* m_copy;
    QTreeWidget* m_targets;
    QTreeWidget* m_switches;
    QTreeWidget* m_usage;
    QLabel* m_failovers;
    UsageChart* m_chart;
    QLabel* m_usageNote;
    std::optional<qint64> m_usageShownMs;  // the snapshot on screen: an unchanged one is not redrawn
    ClientsPanel* m_clients = new ClientsPanel;
    QTimer m_clock;  // "cooling until 14:05" turns into "probing" without a new event
    Status m_shown;
    TrayState m_iconState = TrayState::Stopped;
};

}  // namespace understudy::ui
