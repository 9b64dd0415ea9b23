#include "ClientsPanel.h"

#include <QHeaderView>

namespace understudy::ui {
namespace {

QString servingText(const Serving& s) {
    return QStringLiteral("%1%2 since %3")
        .arg(s.target, s.depth > 0 ? QStringLiteral(" (fallback %1)").arg(s.depth) : QString(), clockTime(s.sinceMs));
}

}  // namespace

ClientsPanel::ClientsPanel(QWidget* parent) : QTreeWidget(parent) {
    setHeaderLabels({QStringLiteral("Client"), QStringLiteral("Settings"), QStringLiteral("Chain"),
                     QStringLiteral("Served by")});
    setRootIsDecorated(false);
    setSelectionMode(QAbstractItemView::NoSelection);
    setFocusPolicy(Qt::NoFocus);
    header()->setStretchLastSection(true);
}

void ClientsPanel::render(const Status& status) {
    clear();
    for (const ClientConnection& c : status.connections) {
        const auto serving = status.clientServing.constFind(c.client);
        const QString chain = status.clientChains.value(c.client, status.activeChain);
        auto* row = new QTreeWidgetItem(this, {c.title, stateText(c.state), chain,
                                               serving == status.clientServing.cend() ? QStringLiteral("no request yet")
                                                                                       : servingText(*serving)});
        row->setToolTip(1, c.detail);
    }
    for (int column : {0, 1, 2})
        resizeColumnToContents(column);
}

}  // namespace understudy::ui
