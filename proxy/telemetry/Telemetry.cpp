#include "telemetry/Telemetry.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

#include <cmath>

#include <cstdio>

namespace understudy {

namespace {

void appendString(QByteArray& out, const QString& text) {
    const QByteArray utf8 = text.toUtf8();
    out.append('"');
    const char* run = utf8.constData();
    const char* const end = run + utf8.size();
    for (const char* p = run; p != end; ++p) {
        const auto u = static_cast<unsigned char>(*p);
        if (u >= 0x20 && u != '"' && u != '\\')
            continue;
        out.append(run, p - run);  // copy plain runs whole: per-byte appends dominated the cost of an event
        if (u < 0x20) {
            static const char hex[] = "0123456789abcdef";
            const char escape[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
            out.append(escape, sizeof escape);
        } else {
            out.append('\\').append(*p);
        }
        run = p + 1;
    }
    out.append(run, end - run);
    out.append('"');
}

// ISO 8601 UTC with milliseconds; the part up to the second is formatted once a second.
QByteArray isoTime(qint64 epochMs) {
    static thread_local qint64 cachedSecond = -1;
    static thread_local QByteArray cachedPrefix;
    const qint64 second = epochMs / 1000;
    if (second != cachedSecond) {
        cachedSecond = second;
        cachedPrefix = QDateTime::fromSecsSinceEpoch(second, Qt::UTC).toString(Qt::ISODate).toLatin1();
        cachedPrefix.chop(1);  // the trailing 'Z'
    }
    return cachedPrefix + '.' + QByteArray::number(epochMs % 1000).rightJustified(3, '0') + 'Z';
}

void appendValue(QByteArray& out, const QJsonValue& value) {
    switch (value.type()) {
    case QJsonValue::String:
        appendString(out, value.toString());
        break;
    case QJsonValue::Double: {
        const double d = value.toDouble();
        if (d == static_cast<double>(static_cast<qint64>(d)) && std::abs(d) < 9007199254740992.0)
            out.append(QByteArray::number(static_cast<qint64>(d)));
        else
            out.append(QByteArray::number(d, 'g', 17));
        break;
    }
    case QJsonValue::Bool:
        out.append(value.toBool() ? "true" : "false");
        break;
    case QJsonValue::Array: {
        out.append('[');
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (i)
                out.append(',');
            appendValue(out, array.at(i));
        }
        out.append(']');
        break;
    }
    case QJsonValue::Object: {
        out.append('{');
        const QJsonObject object = value.toObject();
        bool first = true;
        for (auto it = object.begin(); it != object.end(); ++it, first = false) {
            if (!first)
                out.append(',');
            appendString(out, it.key());
            out.append(':');
            appendValue(out, it.value());
        }
        out.append('}');
        break;
    }
    default:
        out.append("null");
        break;
    }
}

}  // namespace

void EventFields::insert(const QString& key, const QJsonValue& value) {
    for (Field& f : m_fields) {
        if (f.first == key) {
            f.second = value;
            return;
        }
    }
    m_fields.append({key, value});
}

QJsonValue EventFields::value(QAnyStringView key) const {
    for (const Field& f : m_fields) {
        if (QAnyStringView::equal(f.first, key))
            return f.second;
    }
    return QJsonValue(QJsonValue::Undefined);
}

QByteArray ProxyEvent::toJsonLine() const {
    QByteArray out;
    out.reserve(256);
    out.append("{\"type\":");
    appendString(out, type);
    out.append(",\"time\":\"").append(isoTime(timeMs)).append('"');
    for (const EventFields::Field& f : fields.items()) {
        out.append(',');
        appendString(out, f.first);
        out.append(':');
        appendValue(out, f.second);
    }
    out.append("}\n");
    return out;
}

Telemetry::Telemetry(QObject* parent) : QObject(parent), m_flush(this) {
    qRegisterMetaType<ProxyEvent>();
    qRegisterMetaType<UsageRecord>();
    m_flush.setSingleShot(true);
    m_flush.setInterval(200);
    connect(&m_flush, &QTimer::timeout, this, [this] { m_log.flush(); });
}

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
        if (!m_flush.isActive())
            m_flush.start();
    }
    if (m_echo) {
        std::fwrite(line.constData(), 1, line.size(), stderr);
        std::fflush(stderr);
    }
    Q_EMIT eventRecorded(event);
}

}  // namespace understudy
