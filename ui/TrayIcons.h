#pragma once

#include "Status.h"

#include <QIcon>

namespace understudy::ui {

// The tray icon for a state: one SVG per state (resources/icons), each a distinct shape so that it reads
// without colour. Rendered at the tray sizes of 100% and 200% scaling.
QIcon trayIcon(TrayState state);
QString trayStateName(TrayState state);  // "primary", "fallback", "all-down", "paused", "stopped"

}  // namespace understudy::ui
