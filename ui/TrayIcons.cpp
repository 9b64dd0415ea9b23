#include "TrayIcons.h"

#include <QPainter>
#include <QPixmap>
#include <QSvgRenderer>

// Resources in a static library are not registered by themselves.
static void registerIcons() {
    static const bool registered = [] {
        Q_INIT_RESOURCE(understudy);
        return true;
    }();
    Q_UNUSED(registered);
}

namespace understudy::ui {

QString trayStateName(TrayState state) {
    switch (state) {
    case TrayState::Primary: return QStringLiteral("primary");
    case TrayState::Fallback: return QStringLiteral("fallback");
    case TrayState::AllDown: return QStringLiteral("all-down");
    case TrayState::Paused: return QStringLiteral("paused");
    case TrayState::Stopped: return QStringLiteral("stopped");
    }
    return {};
}

// Pixmaps rather than QIcon(":/….svg"): the SVG icon engine is a plugin that a packaged app may lack, while
// QSvgRenderer is linked in.
QIcon trayIcon(TrayState state) {
    registerIcons();
    QSvgRenderer renderer(QStringLiteral(":/icons/%1.svg").arg(trayStateName(state)));
    QIcon icon;
    for (int size : {16, 22, 24, 32, 44, 48, 64}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        renderer.render(&painter);
        painter.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

}  // namespace understudy::ui
