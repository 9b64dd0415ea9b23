#include "support/ProxyUnderTest.h"

#include <QEventLoop>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

namespace understudy::test {

ProxyUnderTest::ProxyUnderTest(const QByteArray& configJson, QObject* parent) : QObject(parent) {
    connect(&m_thread.proxy()->telemetry(), &Telemetry::eventRecorded, this, [this](const ProxyEvent& e) { m_events.append(e); });
    QSignalSpy listening(m_thread.proxy(), &Proxy::listening);
    QSignalSpy failed(m_thread.proxy(), &Proxy::listenFailed);
    std::shared_ptr<const Config> config = parse(configJson);
    if (!config)
        return;
    m_thread.applyConfig(config);
    if (listening.wait(5000))
        m_port = listening.first().at(1).value<quint16>();
    else
        qWarning("proxy did not start: %s", failed.isEmpty() ? "timeout" : qPrintable(failed.first().at(0).toString()));
}

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
