#pragma once

#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QTimer>
#include <QObject>
#include <QStringList>

#include "dialects/UsageMeter.h"

#include <optional>
#include <variant>

namespace understudy {

// A field's value. Scalars are kept as they are: QJsonValue keeps even a string in a CBOR container, an
// allocation and a conversion for each field of the event every request records. Arrays and objects are JSON.
class EventValue {
public:
    EventValue() = default;  // null
    EventValue(const QString& text) : m_value(text) {}
    EventValue(bool flag) : m_value(flag) {}
    EventValue(int number) : m_value(static_cast<qint64>(number)) {}
    EventValue(qint64 number) : m_value(number) {}
    EventValue(double number) : m_value(number) {}
    EventValue(const QJsonValue& json);
    EventValue(const QJsonArray& array) : m_value(QJsonValue(array)) {}
    EventValue(const QJsonObject& object) : m_value(QJsonValue(object)) {}

    QJsonValue toJson() const;
    void appendJson(QByteArray& out) const;

private:
    std::variant<std::monostate, bool, qint64, double, QString, QJsonValue> m_value;
};

// Event fields in insertion order. Lighter than QJsonObject, which re-sorts and converts on every insert:
// a request event is recorded for every request, so it sits on the hot path.
class EventFields {
public:
    using Field = std::pair<QString, EventValue>;
    EventFields() = default;
    EventFields(std::initializer_list<Field> fields) : m_fields(fields) {}

    void insert(const QString& key, const EventValue& value);  // replaces a field of that name
    QJsonValue value(QAnyStringView key) const;                  // Undefined when absent
    bool contains(QAnyStringView key) const;
    const QList<Field>& items() const { return m_fields; }

private:
    QList<Field> m_fields;
};

// Whether a field or member name reads like a credential ("apiKey", "x-api-key", "accessToken", "authorization",
// "secretAccessKey", "password"): the event log writes such a value as "[redacted]", whatever it holds.
bool isSecretName(QStringView name);

// One line of the event log: request, failover, recovery, cooldown, config. Never carries a key, a token or
// prompt text: only names, statuses, reasons and figures.
struct ProxyEvent {
    QString type;
    qint64 timeMs = 0;
    EventFields fields;

    // {"type":…,"time":…,<fields in order>}\n
    QByteArray toJsonLine() const;
};

// One request as the usage ledger records it: names and figures, never content or credentials.
struct UsageRecord {
    qint64 timeMs = 0;
    QString client;            // "claude-code", "codex", "opencode" or empty
    QString sessionId;         // from X-Claude-Code-Session-Id / session-id / x-session-id, when sent
    QString chain;
    QString requestedModel;
    QString provider;          // who answered; empty when nobody did
    QString model;
    int fallbackDepth = 0;     // 0: the chain's first step answered
    QStringList failureReasons;  // of the attempts that failed before
    TokenUsage tokens;
    bool estimated = false;    // the upstream reported no usage: tokens are estimated from sizes
    qint64 firstTokenMs = -1;
    qint64 totalMs = 0;
    int status = 0;
    QString outcome;           // served, stream_broken, all_failed, client_error, too_long, rejected
};

struct Counters {
    quint64 requests = 0;        // inbound model requests
    quint64 served = 0;          // answered by some target
    quint64 servedByFallback = 0;
    quint64 failovers = 0;       // moves to a next target
    quint64 recoveries = 0;
    quint64 allFailed = 0;
    quint64 clientErrors = 0;    // upstream 4xx passed through
    quint64 streamsCut = 0;      // committed streams that broke
    QHash<QString, quint64> servedBy;     // target → count
    QHash<QString, quint64> failuresBy;   // target → count
};

// Collects events and counters on the proxy thread. Events go to the JSON-lines log (and stderr in headless
// mode) and, as queued signals, to whoever listens (the tray).
class Telemetry : public QObject {
    Q_OBJECT
public:
    explicit Telemetry(QObject* parent = nullptr);

    // An empty path disables the file log.
    void setLogFile(const QString& path);
    void setEchoToStderr(bool echo) { m_echo = echo; }

    ~Telemetry() override;  // hands over the last usage batch

    void record(ProxyEvent event);
    void recordUsage(const UsageRecord& record);
    Counters& counters() { return m_counters; }
    const Counters& counters() const { return m_counters; }
    const std::optional<ProxyEvent>& lastSwitch() const { return m_lastSwitch; }

Q_SIGNALS:
    void eventRecorded(const understudy::ProxyEvent& event);
    void usageRecorded(const understudy::UsageRecord& record);
    // The same records, gathered for up to kUsageBatchMs: what the ledger thread takes. A queued signal per
    // request woke that thread for every one, and contention on its event queue stalled the proxy thread for
    // milliseconds whenever the ledger wrote a batch (a p99 of 3 ms at one connection instead of 0.15 ms).
    void usageBatch(const QList<understudy::UsageRecord>& records);

private:
    QFile m_log;
    static constexpr int kUsageBatchMs = 50;
    void sendUsageBatch();

    QTimer m_flush;  // a child, so it moves to the proxy thread; flushes after a burst, not once per event
    QTimer m_usageTimer;
    QList<UsageRecord> m_usageBatch;
    bool m_echo = false;
    Counters m_counters;
    std::optional<ProxyEvent> m_lastSwitch;
};

}  // namespace understudy

Q_DECLARE_METATYPE(understudy::ProxyEvent)
Q_DECLARE_METATYPE(understudy::UsageRecord)
