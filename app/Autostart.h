#pragma once

#include <QString>

namespace understudy::Autostart {

// Launch at login, the way each OS expects a per-user app to ask for it:
//   Linux:   an XDG autostart entry, $XDG_CONFIG_HOME/autostart/understudy.desktop (~/.config when unset)
//   macOS:   a LaunchAgent, ~/Library/LaunchAgents/app.understudy.Understudy.plist
//   Windows: the value "Understudy" under HKCU\Software\Microsoft\Windows\CurrentVersion\Run
// Each starts the binary that is running now (QCoreApplication::applicationFilePath()).

// Where the entry lives, as a user would look for it.
QString location();

// Whether the entry exists and is not switched off (an XDG entry with Hidden=true or
// X-GNOME-Autostart-enabled=false does not start anything).
bool isEnabled();

// Writes or removes the entry. Returns an empty string on success, else what went wrong.
QString setEnabled(bool enabled);

#if defined(Q_OS_LINUX) || defined(Q_OS_FREEBSD)
// The desktop entry that starts `program` at login (exposed for its test).
QByteArray desktopEntry(const QString& program);
#endif

}  // namespace understudy::Autostart
