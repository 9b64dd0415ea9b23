#pragma once

#include "Proxy.h"
#include "config/Config.h"

#include <QList>

namespace understudy::test {

// The real proxy on its worker thread, on an ephemeral loopback port, with the events it records.
class ProxyUnderTest : public QObject {
    Q_OBJECT
public:
    // `configJson` must validate; its listen port is replaced by 0 (any free port).
    explicit ProxyUnderTest(const QByteArray& configJson, QObject* parent = nullptr);
    ~ProxyUnderTest() override;  // keeps the events for the suite's secret scan (support/KeptOutput.h)
    quint16 port() const { return m_port; }
    bool isListening() const { return m_port != 0; }
    void reload(const QByteArray& configJson);
    // Stops the proxy's wall clock at `epochMs` (cooldown ends, reset times, budget days); 0 lets it run.
    void setNow(qint64 epochMs) { m_thread.proxy()->clock().setFixed(epochMs); }

    QList<ProxyEvent> events(const QString& type = {}) const;
    const QList<UsageRecord>& usage() const { return m_usage; }
    QByteArray allEventText() const;
    // Waits until an event of `type` has been recorded `count` times.
    bool waitForEvents(const QString& type, int count, int timeoutMs = 5000);

private:
    std::shared_ptr<const Config> parse(const QByteArray& json);

    ProxyThread m_thread;
    quint16 m_port = 0;
    QString m_failure;  // why the proxy did not start
    QList<ProxyEvent> m_events;
    QList<UsageRecord> m_usage;
};

}  // namespace understudy::test
