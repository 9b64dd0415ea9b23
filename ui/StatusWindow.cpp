#include "StatusWindow.h"

#include "TrayIcons.h"

#include <QClipboard>
#include <QDateTime>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QVBoxLayout>

namespace understudy::ui {
namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

QTreeWidget* table(const QStringList& columns) {
    auto* tree = new QTreeWidget;
    tree->setHeaderLabels(columns);
    tree->setRootIsDecorated(false);
    tree->setSelectionMode(QAbstractItemView::NoSelection);
    tree->setFocusPolicy(Qt::NoFocus);
    tree->header()->setStretchLastSection(true);
    return tree;
}

QGroupBox* group(const QString& title, QWidget* content) {
    auto* box = new QGroupBox(title);
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(content);
    return box;
}

QString healthText(const TargetHealth& h, qint64 now) {
    switch (stateAt(h, now)) {
    case TargetHealth::State::Healthy: return QStringLiteral("healthy");
    case TargetHealth::State::Cooling:
        return QStringLiteral("cooling until %1%2").arg(clockTime(h.coolingUntilMs),
                                                        h.quota ? QStringLiteral(" (quota)")
                                                        : h.rateLimited ? QStringLiteral(" (rate limit)") : QString());
    case TargetHealth::State::Probing: return QStringLiteral("probing with the next request");
    }
    return {};
}

// "950", "12.3k", "4.56M": a glance, not an audit (the tooltip has the exact figure).
QString compactCount(qint64 n) {
    if (n < 10000)
        return QString::number(n);
    for (const auto& [size, suffix] : {std::pair{1e9, "B"}, std::pair{1e6, "M"}, std::pair{1e3, "k"}}) {
        if (double(n) >= size) {
            const double v = double(n) / size;
            return QString::number(v, 'f', v < 10 ? 2 : v < 100 ? 1 : 0) + QLatin1String(suffix);
        }
    }
    return QString::number(n);
}

QString durationText(qint64 ms) {
    const qint64 minutes = ms / 60000;
    if (minutes < 1)
        return QStringLiteral("%1 s").arg(ms / 1000);
    if (minutes < 60)
        return QStringLiteral("%1 min").arg(minutes);
    return QStringLiteral("%1 h %2 min").arg(minutes / 60).arg(minutes % 60);
}

QString costCell(const UsageRow& row) {
    const QString cost = usageCostText(row, row.cost < 1 ? 4 : 2);
    return cost == QLatin1String("unknown") ? cost : u'$' + cost;
}

// One line of the usage table: the period's total (a top-level row) or a provider's share (its child).
QStringList usageCells(const UsageRow& row) {
    // The ledger's "(none)": requests nobody answered, named as the chart names them.
    const QString key = row.key == QLatin1String("(none)") ? RequestsByHour::noAnswer() : row.key;
    return {key, QString::number(row.requests), compactCount(row.inputTokens), compactCount(row.outputTokens),
            compactCount(row.cacheReadTokens), compactCount(row.cacheWriteTokens), costCell(row)};
}

// Figures right-aligned, so that their digits line up.
void alignFigures(QTreeWidgetItem* item) {
    for (int column = 1; column < item->columnCount(); ++column)
        item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
}

void addUsagePeriod(QTreeWidget* tree, const QString& period, const QList<UsageRow>& rows) {
    auto* total = new QTreeWidgetItem(tree, usageCells(usageTotal(rows, period)));
    alignFigures(total);
    QFont bold = total->font(0);
    bold.setBold(true);
    for (int column = 0; column < tree->columnCount(); ++column)
        total->setFont(column, bold);
    for (const UsageRow& row : rows) {
        auto* item = new QTreeWidgetItem(total, usageCells(row));
        alignFigures(item);
        item->setToolTip(0, QStringLiteral("%1 request(s), %2 answered by a fallback; tokens: %3 input, %4 output, "
                                           "%5 cache read, %6 cache write")
                                .arg(row.requests).arg(row.fallbackRequests).arg(row.inputTokens).arg(row.outputTokens)
                                .arg(row.cacheReadTokens).arg(row.cacheWriteTokens));
        if (row.unpricedRequests > 0)
            item->setToolTip(6, QStringLiteral("%1 request(s) went to models with no price: add them to the config's "
                                               "\"pricing\"").arg(row.unpricedRequests));
    }
    if (rows.isEmpty())
        new QTreeWidgetItem(total, {QStringLiteral("No requests")});
    total->setExpanded(true);
}

// The failover figures of the last 24 hours in one line.
QString failoverText(const UsageSnapshot& s) {
    if (s.failoverRequests == 0 && s.timeOnFallbackMs == 0 && s.recoveries == 0)
        return QStringLiteral("Last 24 h: no failover.");
    const QString recovery = s.recoveries == 0
                                 ? QStringLiteral("no recovery yet")
                                 : QStringLiteral("recovery after %1 (mean %2 over %3)")
                                       .arg(durationText(s.lastRecoveryMs), durationText(s.meanRecoveryMs))
                                       .arg(s.recoveries);
    return QStringLiteral("Last 24 h: %1 request(s) failed over (%2/h, %3 in the last hour) · %4 on fallback · %5.")
        .arg(s.failoverRequests)
        .arg(QString::number(s.failoverRatePerHour(), 'f', 1))
        .arg(s.failoverRequestsLastHour)
        .arg(durationText(s.timeOnFallbackMs), recovery);
}

QString switchText(const Switch& s) {
    switch (s.kind) {
    case Switch::Kind::Failover: return s.from + QStringLiteral(" → ") + s.to;
    case Switch::Kind::Recovery: return QStringLiteral("back on ") + s.from;
    case Switch::Kind::AllDown: return QStringLiteral("every target of '%1' down").arg(s.chain);
    }
    return {};
}

}  // namespace

StatusWindow::StatusWindow(QWidget* parent) : QWidget(parent) {
    setWindowTitle(QStringLiteral("Understudy status"));
    setWindowIcon(trayIcon(m_iconState));

    m_headline = new QLabel;
    m_headline->setWordWrap(true);
    QFont big = m_headline->font();
    big.setPointSizeF(big.pointSizeF() * 1.25);
    big.setBold(true);
    m_headline->setFont(big);

    m_problem = new QLabel;
    m_problem->setWordWrap(true);
    m_problem->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem->setStyleSheet(QStringLiteral("QLabel { border: 1px solid #c62828; padding: 6px; }"));

    m_address = new QLineEdit;
    m_address->setReadOnly(true);
    m_copy = new QPushButton(QStringLiteral("Copy"));
    connect(m_copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_address->text()); });
    auto* addressRow = new QHBoxLayout;
    addressRow->addWidget(new QLabel(QStringLiteral("Listening on")));
    addressRow->addWidget(m_address, 1);
    addressRow->addWidget(m_copy);

    m_targets = table({QStringLiteral("Target"), QStringLiteral("Health"), QStringLiteral("Served"), QString()});
    m_switches = table({QStringLiteral("Time"), QStringLiteral("Switch"), QStringLiteral("Reason")});

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_headline);
    layout->addWidget(m_problem);
    layout->addLayout(addressRow);
    layout->addWidget(group(QStringLiteral("Targets"), m_targets), 1);
    layout->addWidget(group(QStringLiteral("Last switches"), m_switches), 1);
    layout->addWidget(usageSection());
    layout->addWidget(group(QStringLiteral("Clients"), m_clients));
    resize(720, 900);

    m_clock.setInterval(15000);
    connect(&m_clock, &QTimer::timeout, this, [this] {
        if (isVisible())
            renderTargets(m_shown, nowMs());
    });
    m_clock.start();
}

// A hidden window only keeps the status: a busy proxy reports every request, and nobody is looking.
void StatusWindow::render(const Status& status) {
    m_shown = status;
    if (isVisible())
        renderShown();
}

void StatusWindow::renderShown() {
    const QString back = m_shown.comebacks(nowMs());
    m_headline->setText(back.isEmpty() ? m_shown.headline() : m_shown.headline() + QStringLiteral(". ") + back);
    if (m_shown.trayState() != m_iconState) {
        m_iconState = m_shown.trayState();
        setWindowIcon(trayIcon(m_iconState));
    }
    renderAddress(m_shown);
    renderTargets(m_shown, nowMs());
    renderSwitches(m_shown);
    renderUsage(m_shown);
    m_clients->render(m_shown);
}

void StatusWindow::showEvent(QShowEvent* event) {
    renderShown();
    QWidget::showEvent(event);
}

void StatusWindow::bringToFront() {
    show();
    setWindowState(windowState() & ~Qt::WindowMinimized);
    raise();
    activateWindow();
}

void StatusWindow::renderAddress(const Status& status) {
    m_address->setText(status.listenUrl);
    m_copy->setEnabled(status.listening);
    m_problem->setVisible(!status.stoppedReason.isEmpty());
    m_problem->setText(QStringLiteral("The proxy is not running: ") + status.stoppedReason);
}

void StatusWindow::renderTargets(const Status& status, qint64 now) {
    m_targets->clear();
    for (const TargetStatus& t : status.targets) {
        auto* row = new QTreeWidgetItem(m_targets, {t.health.target, healthText(t.health, now), QString::number(t.served)});
        if (t.health.state != TargetHealth::State::Healthy) {
            row->setToolTip(1, t.health.reason);
            row->setText(1, row->text(1) + QStringLiteral(" — ") + t.health.reason);
            auto* retry = new QPushButton(QStringLiteral("Retry now"));
            retry->setToolTip(QStringLiteral("End the cooldown: the next request tries %1").arg(t.health.target));
            connect(retry, &QPushButton::clicked, this, [this, target = t.health.target] { Q_EMIT retryRequested(target); });
            m_targets->setItemWidget(row, 3, retry);
        }
    }
    if (status.targets.isEmpty())
        new QTreeWidgetItem(m_targets, {QStringLiteral("No request yet")});
    for (int column : {0, 1, 2})
        m_targets->resizeColumnToContents(column);
}

void StatusWindow::renderSwitches(const Status& status) {
    m_switches->clear();
    for (const Switch& s : status.switches)
        new QTreeWidgetItem(m_switches, {QDateTime::fromMSecsSinceEpoch(s.timeMs).toString(QStringLiteral("HH:mm:ss")),
                                         switchText(s), s.reason});
    if (status.switches.isEmpty())
        new QTreeWidgetItem(m_switches, {QString(), QStringLiteral("No switch since Understudy started")});
    for (int column : {0, 1})
        m_switches->resizeColumnToContents(column);
}

QWidget* StatusWindow::usageSection() {
    m_usage = table({QString(), QStringLiteral("Requests"), QStringLiteral("Input"), QStringLiteral("Output"),
                     QStringLiteral("Cache read"), QStringLiteral("Cache write"), QStringLiteral("Cost")});
    m_usage->setRootIsDecorated(true);
    m_usage->header()->setStretchLastSection(false);  // the cost stays next to the other figures
    alignFigures(m_usage->headerItem());
    m_usage->setItemsExpandable(false);
    m_failovers = new QLabel;
    m_failovers->setWordWrap(true);
    m_chart = new UsageChart;
    m_usageNote = new QLabel;
    m_usageNote->setWordWrap(true);
    m_usageNote->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* box = new QGroupBox(QStringLiteral("Usage"));
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(m_usage);
    layout->addWidget(m_failovers);
    layout->addWidget(new QLabel(QStringLiteral("Requests per hour, last 24 hours, by serving model")));
    layout->addWidget(m_chart);
    layout->addWidget(m_usageNote);
    return box;
}

void StatusWindow::renderUsage(const Status& status) {
    if (!status.usageProblem.isEmpty())
        m_usageNote->setText(status.usageProblem);
    else if (!status.usage)
        m_usageNote->setText(QStringLiteral("Waiting for the usage ledger…"));
    else
        m_usageNote->setText(QStringLiteral("Updated %1, from the usage ledger (understudy usage prints more).")
                                 .arg(clockTime(status.usage->takenMs)));
    if (!status.usage || m_usageShownMs == status.usage->takenMs)
        return;
    m_usageShownMs = status.usage->takenMs;
    m_usage->clear();
    addUsagePeriod(m_usage, QStringLiteral("Today"), status.usage->today);
    addUsagePeriod(m_usage, QStringLiteral("This month"), status.usage->month);
    for (int column = 0; column < m_usage->columnCount(); ++column)
        m_usage->resizeColumnToContents(column);
    // As tall as its rows (up to a dozen), so the section needs no scrolling of its own.
    int rows = 0;
    for (int i = 0; i < m_usage->topLevelItemCount(); ++i)
        rows += 1 + m_usage->topLevelItem(i)->childCount();
    rows = std::min(rows, 12);
    const int rowHeight = m_usage->sizeHintForRow(0) > 0 ? m_usage->sizeHintForRow(0) : fontMetrics().height() + 4;
    m_usage->setFixedHeight(m_usage->header()->sizeHint().height() + rows * rowHeight + 2 * m_usage->frameWidth());
    m_failovers->setText(failoverText(*status.usage));
    m_chart->setData(status.usage->requestsByHour);
}

}  // namespace understudy::ui
