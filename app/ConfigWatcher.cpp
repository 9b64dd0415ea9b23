#include "ConfigWatcher.h"

#include "config/ConfigFile.h"

#include <QFile>
#include <QFileInfo>

namespace understudy {

ConfigWatcher::ConfigWatcher(const QString& path, QObject* parent) : QObject(parent), m_path(path) {
    QFile file(path);
    if (file.open(QIODevice::ReadOnly))
        m_lastGood = file.readAll();
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(150);
    connect(&m_debounce, &QTimer::timeout, this, &ConfigWatcher::reload);
    // Watch the folder too: editors that save by rename replace the file the watcher was following.
    m_watcher.addPath(path);
    m_watcher.addPath(QFileInfo(path).absolutePath());
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, &m_debounce, qOverload<>(&QTimer::start));
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, &m_debounce, qOverload<>(&QTimer::start));
}

void ConfigWatcher::reload() {
    if (!m_watcher.files().contains(m_path) && QFileInfo::exists(m_path))
        m_watcher.addPath(m_path);
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly))
        return;  // mid-rename; the next change event will bring it back
    const QByteArray bytes = file.readAll();
    if (bytes == m_lastGood)
        return;
    ConfigResult result = parseConfig(bytes);
    if (!result.config) {
        Q_EMIT rejected(result.problems);
        return;
    }
    m_lastGood = bytes;
    ConfigFile::rememberGood(m_path, bytes);  // best effort: the running config does not depend on it
    Q_EMIT reloaded(std::make_shared<const Config>(std::move(*result.config)));
}

}  // namespace understudy
