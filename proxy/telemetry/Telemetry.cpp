#include "telemetry/Telemetry.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>

#include <cstdio>

namespace understudy {

QByteArray ProxyEvent::toJsonLine() const {
    QJsonObject object = fields;
    object.insert(QStringLiteral("type"), type);
    object.insert(QStringLiteral("time"), QDateTime::fromMSecsSinceEpoch(timeMs, Qt::UTC).toString(Qt::ISODateWithMs));
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

Telemetry::Telemetry(QObject* parent) : QObject(parent) { qRegisterMetaType<ProxyEvent>(); }

void Telemetry::setLogFile(const QString& path) {
    if (m_log.isOpen())
        m_log.close();
    if (path.isEmpty())
        return;
    QDir().mkpath(QFileInfo(path).absolutePath());
    m_log.setFileName(path);
    if (!m_log.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text))
        std::fprintf(stderr, "understudy: cannot write the event log %s: %s\n", qPrintable(path),
                     qPrintable(m_log.errorString()));
}

void Telemetry::record(ProxyEvent event) {
    if (event.timeMs == 0)
        event.timeMs = QDateTime::currentMSecsSinceEpoch();
    if (event.type == QLatin1String("failover") || event.type == QLatin1String("recovery"))
        m_lastSwitch = event;
    const QByteArray line = event.toJsonLine();
    if (m_log.isOpen()) {
        m_log.write(line);
        m_log.flush();
    }
    if (m_echo) {
        std::fwrite(line.constData(), 1, line.size(), stderr);
        std::fflush(stderr);
    }
    Q_EMIT eventRecorded(event);
}

}  // namespace understudy
