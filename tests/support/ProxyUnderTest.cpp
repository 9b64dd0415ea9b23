#include "support/ProxyUnderTest.h"

#include "support/KeptOutput.h"

#include <QEventLoop>
#include <QTest>
#include <QTimer>

namespace understudy::test {

ProxyUnderTest::ProxyUnderTest(const QByteArray& configJson, QObject* parent) : QObject(parent) {
    connect(&m_thread.proxy()->telemetry(), &Telemetry::eventRecorded, this, [this](const ProxyEvent& e) { m_events.append(e); });
    connect(&m_thread.proxy()->telemetry(), &Telemetry::usageRecorded, this, [this](const UsageRecord& r) { m_usage.append(r); });
    // Queued to this (the test's) thread: QSignalSpy::wait is not safe against a signal from another thread.
    connect(m_thread.proxy(), &Proxy::listening, this, [this](const QString&, quint16 port) { m_port = port; });
    connect(m_thread.proxy(), &Proxy::listenFailed, this, [this](const QString& message) { m_failure = message; });
    std::shared_ptr<const Config> config = parse(configJson);
    if (!config)
        return;
    m_thread.applyConfig(config);
    if (!QTest::qWaitFor([this] { return m_port != 0 || !m_failure.isEmpty(); }, 10000))
        m_failure = QStringLiteral("timeout");
    if (m_port == 0)
        qWarning("proxy did not start: %s", qPrintable(m_failure));
}

ProxyUnderTest::~ProxyUnderTest() { keepOutput(QStringLiteral("proxy-events"), allEventText()); }

std::shared_ptr<const Config> ProxyUnderTest::parse(const QByteArray& json) {
    ConfigResult result = parseConfig(json);
    if (!result.config) {
        for (const ConfigProblem& p : result.problems)
            qWarning("test config: %s: %s", qPrintable(p.path), qPrintable(p.message));
        return nullptr;
    }
    result.config->listen.port = m_port;  // 0 at first: any free port; later reloads keep it
    return std::make_shared<const Config>(std::move(*result.config));
}

void ProxyUnderTest::reload(const QByteArray& configJson) {
    if (auto config = parse(configJson))
        m_thread.applyConfig(config);
    QTest::qWait(50);
}

QList<ProxyEvent> ProxyUnderTest::events(const QString& type) const {
    QList<ProxyEvent> list;
    for (const ProxyEvent& e : m_events) {
        if (type.isEmpty() || e.type == type)
            list.append(e);
    }
    return list;
}

QByteArray ProxyUnderTest::allEventText() const {
    QByteArray all;
    for (const ProxyEvent& e : m_events)
        all += e.toJsonLine();
    return all;
}

bool ProxyUnderTest::waitForEvents(const QString& type, int count, int timeoutMs) {
    return QTest::qWaitFor([&] { return events(type).size() >= count; }, timeoutMs);
}

}  // namespace understudy::test
