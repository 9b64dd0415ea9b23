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
    case TargetHealth::State::Cooling: return QStringLiteral("cooling until %1").arg(clockTime(h.coolingUntilMs));
    case TargetHealth::State::Probing: return QStringLiteral("probing with the next request");
    }
    return {};
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
    layout->addWidget(group(QStringLiteral("Clients"), m_clients));
    resize(640, 520);

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
    m_headline->setText(m_shown.headline());
    if (m_shown.trayState() != m_iconState) {
        m_iconState = m_shown.trayState();
        setWindowIcon(trayIcon(m_iconState));
    }
    renderAddress(m_shown);
    renderTargets(m_shown, nowMs());
    renderSwitches(m_shown);
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

}  // namespace understudy::ui
