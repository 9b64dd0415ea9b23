#include "SingleInstance.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QLocalSocket>

namespace understudy {
namespace {

constexpr int kAnswerWithinMs = 1000;

// The socket name is per user (the home folder) and per config file; hashed, because local socket names are
// short and shared by every user of the machine.
QString socketName(const QString& configPath) {
    const QByteArray identity = (QDir::homePath() + QLatin1Char('\n') + QFileInfo(configPath).absoluteFilePath()).toUtf8();
    return QStringLiteral("understudy-")
         + QString::fromLatin1(QCryptographicHash::hash(identity, QCryptographicHash::Sha256).toHex().left(24));
}

}  // namespace

SingleInstance::SingleInstance(const QString& configPath, QObject* parent)
    : QObject(parent), m_name(socketName(configPath)) {
    connect(&m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket* socket = m_server.nextPendingConnection()) {
            connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            Q_EMIT activationRequested();
        }
    });
}

bool SingleInstance::claim() {
    QLocalSocket first;
    first.connectToServer(m_name);
    if (first.waitForConnected(kAnswerWithinMs)) {
        first.disconnectFromServer();
        return false;
    }
    // Nobody answered: a socket file left by a crashed instance would make listen() fail, so clear it.
    QLocalServer::removeServer(m_name);
    m_server.setSocketOptions(QLocalServer::UserAccessOption);
    m_server.listen(m_name);  // if this fails, later launches start their own tray and report the taken port
    return true;
}

}  // namespace understudy
