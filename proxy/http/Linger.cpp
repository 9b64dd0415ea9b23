#include "http/Linger.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace understudy::http {
namespace {

void shutdownWrite(QTcpSocket* socket) {
#ifdef Q_OS_WIN
    ::shutdown(static_cast<SOCKET>(socket->socketDescriptor()), SD_SEND);
#else
    ::shutdown(static_cast<int>(socket->socketDescriptor()), SHUT_WR);
#endif
}

// Lives as the socket's child for the length of the linger.
class Linger : public QObject {
public:
    Linger(QTcpSocket* socket, int quietMs, int maxMs, std::function<void()> done)
        : QObject(socket), m_socket(socket), m_quietMs(quietMs), m_done(std::move(done)) {
        m_quiet.setSingleShot(true);
        connect(&m_quiet, &QTimer::timeout, this, &Linger::finish);
        QTimer::singleShot(maxMs, this, &Linger::finish);
        connect(socket, &QTcpSocket::readyRead, this, &Linger::drop);
        connect(socket, &QTcpSocket::disconnected, this, &Linger::finish);
        connect(socket, &QTcpSocket::bytesWritten, this, &Linger::shutdownWhenSent);
        drop();
        shutdownWhenSent();
    }

private:
    void drop() {
        m_socket->readAll();
        if (m_writeShut)
            m_quiet.start(m_quietMs);
    }

    void shutdownWhenSent() {
        if (m_writeShut || m_socket->bytesToWrite() > 0)
            return;
        if (m_socket->state() != QAbstractSocket::ConnectedState) {
            finish();
            return;
        }
        m_writeShut = true;
        shutdownWrite(m_socket);
        m_quiet.start(m_quietMs);
    }

    void finish() {
        if (!m_done)
            return;
        const std::function<void()> done = std::move(m_done);
        m_done = nullptr;
        m_quiet.stop();
        done();  // may delete the socket, and this with it, later
    }

    QTcpSocket* m_socket;
    int m_quietMs;
    std::function<void()> m_done;
    QTimer m_quiet;
    bool m_writeShut = false;
};

}  // namespace

void closeLingering(QTcpSocket* socket, int quietMs, int maxMs, std::function<void()> done) {
    new Linger(socket, quietMs, maxMs, std::move(done));
}

}  // namespace understudy::http
