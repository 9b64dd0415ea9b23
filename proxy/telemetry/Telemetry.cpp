#include "telemetry/Telemetry.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <utility>

#include <cstdio>

namespace understudy {

namespace {

// Writes `text` as a JSON string straight from UTF-16 into `out`: no intermediate UTF-8 copy (an event has a
// dozen strings, and those copies were most of its cost). A lone surrogate becomes U+FFFD, as QString::toUtf8 does.
void appendString(QByteArray& out, QStringView text) {
    const qsizetype start = out.size();
    out.resize(start + 2 + 6 * text.size());  // worst case: every unit a \u00XX escape
    char* p = out.data() + start;
    *p++ = '"';
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t c = text[i].unicode();
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\') {
                *p++ = static_cast<char>(c);
            } else if (c >= 0x20) {
                *p++ = '\\';
                *p++ = static_cast<char>(c);
            } else {
                static const char hex[] = "0123456789abcdef";
                const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                p = std::copy(std::begin(escape), std::end(escape), p);
            }
            continue;
        }
        char32_t code = c;
        if (QChar::isHighSurrogate(c) && i + 1 < n && QChar::isLowSurrogate(text[i + 1].unicode()))
            code = QChar::surrogateToUcs4(c, text[++i].unicode());
        else if (QChar::isSurrogate(c))
            code = 0xFFFD;
        if (code < 0x800) {
            *p++ = static_cast<char>(0xC0 | (code >> 6));
        } else if (code < 0x10000) {
            *p++ = static_cast<char>(0xE0 | (code >> 12));
            *p++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        } else {
            *p++ = static_cast<char>(0xF0 | (code >> 18));
            *p++ = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            *p++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        }
        *p++ = static_cast<char>(0x80 | (code & 0x3F));
    }
    *p++ = '"';
    out.resize(p - out.constData());
}

// ISO 8601 UTC with milliseconds; the part up to the second is formatted once a second.
void appendIsoTime(QByteArray& out, qint64 epochMs) {
    static thread_local qint64 cachedSecond = -1;
    static thread_local QByteArray cachedPrefix;
    const qint64 second = epochMs / 1000;
    if (second != cachedSecond) {
        cachedSecond = second;
        cachedPrefix = QDateTime::fromSecsSinceEpoch(second, Qt::UTC).toString(Qt::ISODate).toLatin1();
        cachedPrefix.chop(1);  // the trailing 'Z'
    }
    const int ms = static_cast<int>(epochMs % 1000);
    const char fraction[] = {'.', char('0' + ms / 100), char('0' + ms / 10 % 10), char('0' + ms % 10), 'Z'};
    out.append(cachedPrefix).append(fraction, sizeof fraction);
}

void appendInteger(QByteArray& out, qint64 number) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    out.append(digits, end - digits);
}

// An integral value is written without a fraction, as QJsonDocument writes it.
void appendNumber(QByteArray& out, double number) {
    if (number == static_cast<double>(static_cast<qint64>(number)) && std::abs(number) < 9007199254740992.0)
        appendInteger(out, static_cast<qint64>(number));
    else
        out.append(QByteArray::number(number, 'g', 17));
}

constexpr char kRedacted[] = "\"[redacted]\"";

void appendValue(QByteArray& out, const QJsonValue& value);
void appendValue(QByteArray& out, const EventValue& value) { value.appendJson(out); }

// A member whose value is written as "[redacted]" whatever it holds: no event is meant to carry a credential,
// and this keeps one out of the log even if some future field would.
void appendMember(QByteArray& out, QStringView key, const auto& value) {
    appendString(out, key);
    out.append(':');
    if (isSecretName(key))
        out.append(kRedacted);
    else
        appendValue(out, value);
}

void appendValue(QByteArray& out, const QJsonValue& value) {
    switch (value.type()) {
    case QJsonValue::String:
        appendString(out, value.toString());
        break;
    case QJsonValue::Double:
        appendNumber(out, value.toDouble());
        break;
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
            appendMember(out, it.key(), it.value());
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

EventValue::EventValue(const QJsonValue& json) {
    switch (json.type()) {
    case QJsonValue::Bool: m_value = json.toBool(); break;
    case QJsonValue::Double: m_value = json.toDouble(); break;
    case QJsonValue::String: m_value = json.toString(); break;
    case QJsonValue::Array:
    case QJsonValue::Object: m_value = json; break;
    default: break;
    }
}

QJsonValue EventValue::toJson() const {
    struct {
        QJsonValue operator()(std::monostate) const { return QJsonValue(QJsonValue::Null); }
        QJsonValue operator()(bool flag) const { return flag; }
        QJsonValue operator()(qint64 number) const { return number; }
        QJsonValue operator()(double number) const { return number; }
        QJsonValue operator()(const QString& text) const { return text; }
        QJsonValue operator()(const QJsonValue& json) const { return json; }
    } visitor;
    return std::visit(visitor, m_value);
}

void EventValue::appendJson(QByteArray& out) const {
    struct {
        QByteArray& out;
        void operator()(std::monostate) const { out.append("null"); }
        void operator()(bool flag) const { out.append(flag ? "true" : "false"); }
        void operator()(qint64 number) const { appendInteger(out, number); }
        void operator()(double number) const { appendNumber(out, number); }
        void operator()(const QString& text) const { appendString(out, text); }
        void operator()(const QJsonValue& json) const { appendValue(out, json); }
    } visitor{out};
    std::visit(visitor, m_value);
}

namespace {

bool isAsciiLetter(char16_t c) {
    const char16_t lower = c | 0x20;
    return lower >= 'a' && lower <= 'z';
}

// Whether `name`'s ASCII letters, read backwards in lower case with anything else skipped, end in `ending`; no
// copy and no Unicode tables, as this runs for every field of every event.
bool lettersEndWith(QStringView name, QLatin1StringView ending) {
    qsizetype i = name.size();
    for (qsizetype j = ending.size() - 1; j >= 0; --j) {
        while (i > 0 && !isAsciiLetter(name[i - 1].unicode()))
            --i;
        if (i == 0 || (name[i - 1].unicode() | 0x20) != ending[j].unicode())
            return false;
        --i;
    }
    return true;
}

}  // namespace

bool isSecretName(QStringView name) {
    // "x-api-key", "apiKey" and "API_KEY" read alike.
    static constexpr QLatin1StringView kEndings[] = {
        QLatin1StringView("key"), QLatin1StringView("token"), QLatin1StringView("secret"),
        QLatin1StringView("password"), QLatin1StringView("passwd"), QLatin1StringView("authorization"),
        QLatin1StringView("cookie"), QLatin1StringView("credential"), QLatin1StringView("credentials"),
        QLatin1StringView("signature")};
    for (QLatin1StringView ending : kEndings) {
        if (lettersEndWith(name, ending))
            return true;
    }
    return false;
}

void EventFields::insert(const QString& key, const EventValue& value) {
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
            return f.second.toJson();
    }
    return QJsonValue(QJsonValue::Undefined);
}

bool EventFields::contains(QAnyStringView key) const {
    for (const Field& f : m_fields) {
        if (QAnyStringView::equal(f.first, key))
            return true;
    }
    return false;
}

QByteArray ProxyEvent::toJsonLine() const {
    QByteArray out;
    out.reserve(1024);  // one allocation for a typical event, so appendString's worst-case resize stays in place
    out.append("{\"type\":");
    appendString(out, type);
    out.append(",\"time\":\"");
    appendIsoTime(out, timeMs);
    out.append('"');
    for (const EventFields::Field& f : fields.items()) {
        out.append(',');
        appendMember(out, f.first, f.second);
    }
    out.append("}\n");
    return out;
}

Telemetry::Telemetry(QObject* parent) : QObject(parent), m_flush(this), m_usageTimer(this) {
    qRegisterMetaType<ProxyEvent>();
    qRegisterMetaType<UsageRecord>();
    qRegisterMetaType<QList<UsageRecord>>();
    m_flush.setSingleShot(true);
    m_flush.setInterval(200);
    connect(&m_flush, &QTimer::timeout, this, [this] { m_log.flush(); });
    m_usageTimer.setSingleShot(true);
    m_usageTimer.setInterval(kUsageBatchMs);
    connect(&m_usageTimer, &QTimer::timeout, this, &Telemetry::sendUsageBatch);
}

Telemetry::~Telemetry() { sendUsageBatch(); }

void Telemetry::recordUsage(const UsageRecord& record) {
    Q_EMIT usageRecorded(record);
    m_usageBatch.append(record);
    if (!m_usageTimer.isActive())
        m_usageTimer.start();
}

void Telemetry::sendUsageBatch() {
    if (m_usageBatch.isEmpty())
        return;
    Q_EMIT usageBatch(std::exchange(m_usageBatch, {}));
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
