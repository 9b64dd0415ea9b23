#pragma once

#include "config/Config.h"

#include <QFileSystemWatcher>
#include <QTimer>

#include <memory>

namespace understudy {

// Reloads the config file when it changes. A file that does not validate is reported and ignored: the
// running config stays, so a typo in an editor never takes the proxy down.
class ConfigWatcher : public QObject {
    Q_OBJECT
public:
    explicit ConfigWatcher(const QString& path, QObject* parent = nullptr);

    // Reads the file now, for a change the app just saved itself: applied at once, not after the debounce.
    void reload();

Q_SIGNALS:
    void reloaded(std::shared_ptr<const understudy::Config> config);
    void rejected(const QList<understudy::ConfigProblem>& problems);

private:
    QString m_path;
    QByteArray m_lastGood;
    QFileSystemWatcher m_watcher;
    QTimer m_debounce;  // editors write in several steps; read once they are done
};

}  // namespace understudy
