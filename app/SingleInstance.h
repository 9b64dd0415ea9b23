#pragma once

#include <QLocalServer>
#include <QObject>

namespace understudy {

// One tray app per user and config file: a second launch asks the first to show itself, then exits.
// (Two instances on one config would fight over its port and its file.)
class SingleInstance : public QObject {
    Q_OBJECT
public:
    explicit SingleInstance(const QString& configPath, QObject* parent = nullptr);

    // True when this is the only instance (it now answers later launches). False when another one runs: it
    // has been asked to show itself.
    bool claim();

Q_SIGNALS:
    void activationRequested();

private:
    QString m_name;
    QLocalServer m_server;
};

}  // namespace understudy
