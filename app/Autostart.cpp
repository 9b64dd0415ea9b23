#include "Autostart.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>

namespace understudy::Autostart {
namespace {

[[maybe_unused]] QString writeFile(const QString& path, const QByteArray& bytes) {
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return QStringLiteral("cannot create the folder %1").arg(QDir::toNativeSeparators(QFileInfo(path).absolutePath()));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
    return {};
}

[[maybe_unused]] QString removeFile(const QString& path) {
    if (QFileInfo::exists(path) && !QFile::remove(path))
        return QStringLiteral("cannot remove %1").arg(QDir::toNativeSeparators(path));
    return {};
}

}  // namespace

#if defined(Q_OS_LINUX) || defined(Q_OS_FREEBSD)

namespace {

// The Exec key's quoting (Desktop Entry Specification, "The Exec key"): an argument with reserved characters
// is double-quoted with ", `, $ and \ escaped by a backslash, and '%' is written "%%" (field codes). The
// value is then a string value, whose own escaping doubles each backslash again.
QString execArgument(const QString& argument) {
    QString quoted = argument;
    quoted.replace(u'%', QStringLiteral("%%"));
    const bool plain = std::all_of(argument.begin(), argument.end(), [](QChar c) {
        return !c.isSpace() && !QStringLiteral("\"'\\><~|&;$*?#()`").contains(c);
    });
    if (!plain) {
        for (const QChar special : {u'\\', u'"', u'`', u'$'})
            quoted.replace(special, QStringLiteral("\\") + special);
        quoted = u'"' + quoted + u'"';
    }
    return quoted.replace(u'\\', QStringLiteral("\\\\"));
}

QString configHome() {
    const QString xdg = qEnvironmentVariable("XDG_CONFIG_HOME");
    // The spec: a relative XDG_CONFIG_HOME is invalid and must be ignored.
    return !xdg.isEmpty() && QDir::isAbsolutePath(xdg) ? xdg : QDir::homePath() + QStringLiteral("/.config");
}

}  // namespace

QByteArray desktopEntry(const QString& program) {
    return QStringLiteral("[Desktop Entry]\n"
                          "Type=Application\n"
                          "Version=1.5\n"
                          "Name=Understudy\n"
                          "Comment=Start the Understudy failover proxy at login\n"
                          "Exec=%1\n"
                          "Icon=understudy\n"
                          "Terminal=false\n"
                          "X-GNOME-Autostart-enabled=true\n")
        .arg(execArgument(program))
        .toUtf8();
}

QString location() { return configHome() + QStringLiteral("/autostart/understudy.desktop"); }

bool isEnabled() {
    QFile file(location());
    if (!file.open(QIODevice::ReadOnly))
        return false;
    for (const QByteArray& line : file.readAll().split('\n')) {
        const QByteArray setting = line.trimmed();
        if (setting == "Hidden=true" || setting == "X-GNOME-Autostart-enabled=false")
            return false;
    }
    return true;
}

QString setEnabled(bool enabled) {
    return enabled ? writeFile(location(), desktopEntry(QCoreApplication::applicationFilePath())) : removeFile(location());
}

#elif defined(Q_OS_MACOS)

namespace {

QString escaped(QString text) {
    return text.replace(u'&', QStringLiteral("&amp;"))
        .replace(u'<', QStringLiteral("&lt;"))
        .replace(u'>', QStringLiteral("&gt;"));
}

}  // namespace

QString location() { return QDir::homePath() + QStringLiteral("/Library/LaunchAgents/app.understudy.Understudy.plist"); }

bool isEnabled() { return QFileInfo::exists(location()); }

// launchd reads ~/Library/LaunchAgents at login; RunAtLoad starts the app then. The binary inside the bundle is
// named, not the bundle, so the entry keeps working from wherever the user put Understudy.app.
QString setEnabled(bool enabled) {
    if (!enabled)
        return removeFile(location());
    const QByteArray plist = QStringLiteral(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        "<plist version=\"1.0\">\n<dict>\n"
        "  <key>Label</key>\n  <string>app.understudy.Understudy</string>\n"
        "  <key>ProgramArguments</key>\n  <array>\n    <string>%1</string>\n  </array>\n"
        "  <key>RunAtLoad</key>\n  <true/>\n"
        "  <key>ProcessType</key>\n  <string>Interactive</string>\n"
        "</dict>\n</plist>\n").arg(escaped(QCoreApplication::applicationFilePath())).toUtf8();
    return writeFile(location(), plist);
}

#elif defined(Q_OS_WIN)

namespace {

const QString kRunKey = QStringLiteral("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run");
const QString kValue = QStringLiteral("Understudy");  // the uninstaller deletes this value (installers/Packaging.cmake)

}  // namespace

QString location() { return kRunKey + u'\\' + kValue; }

bool isEnabled() { return QSettings(kRunKey, QSettings::NativeFormat).contains(kValue); }

QString setEnabled(bool enabled) {
    QSettings run(kRunKey, QSettings::NativeFormat);
    if (enabled)
        run.setValue(kValue, u'"' + QDir::toNativeSeparators(QCoreApplication::applicationFilePath()) + u'"');
    else
        run.remove(kValue);
    run.sync();
    if (run.status() != QSettings::NoError)
        return QStringLiteral("cannot write %1").arg(location());
    return {};
}

#else

QString location() { return {}; }
bool isEnabled() { return false; }
QString setEnabled(bool) { return QStringLiteral("launch at login is not supported on this system"); }

#endif

}  // namespace understudy::Autostart
