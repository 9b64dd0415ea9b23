#pragma once

#include "config/Config.h"
#include "http/Message.h"
#include "routing/Clock.h"
#include "routing/Continuation.h"
#include "routing/Health.h"
#include "routing/Route.h"
#include "routing/SpendGuard.h"
#include "security/AccessToken.h"
#include "telemetry/Ledger.h"
#include "telemetry/Telemetry.h"

#include <QJsonArray>
#include <QObject>
#include <QThread>

#include <memory>

namespace understudy {

namespace http {
class Connection;
class Server;
class UpstreamPool;
}
namespace google {
class TokenCache;
}

// The proxy: an HTTP server on the listen address, the upstream connection pool, per-target health and
// telemetry. Lives on one thread (see ProxyThread); every entry point must be called on that thread.
class Proxy : public QObject {
    Q_OBJECT
public:
    explicit Proxy(QObject* parent = nullptr);
    ~Proxy() override;

    // Starts listening with `config` (emits listening or listenFailed). Later calls swap the config for new
    // requests (in-flight requests finish on the one they started with) and re-listen if the address changed.
    void applyConfig(std::shared_ptr<const Config> config);
    Telemetry& telemetry() { return *m_telemetry; }
    quint16 port() const;

    QByteArray statusJson() const;
    // The clock cooldowns and daily budgets are read from; tests stop it (thread-safe).
    Clock& clock() { return m_clock; }
    QByteArray metricsText() const;

public Q_SLOTS:
    // Pause failover: each request goes to the first step of its chain only, with no cooldown skipping,
    // as if Understudy were not there. For a user who wants their own model, errors included.
    void setPaused(bool paused);
    // "Retry now": ends the target's cooldown, so the next request probes it.
    void retryNow(const QString& target);
    // The usage ledger's latest figures (queued from its thread), served as they are by /status and /metrics.
    void setUsageSnapshot(const understudy::UsageSnapshot& snapshot) {
        m_usage = snapshot;
        m_spend.seedFromLedger(snapshot);
    }

Q_SIGNALS:
    void listening(const QString& host, quint16 port);
    void listenFailed(const QString& message);

private:
    void handle(http::Request&& request, http::Connection* connection);
    bool handleLocal(const http::Request& request, const ChainPrefix& target, http::Connection* connection);
    void listenOn(const ListenConfig& listen);
    QJsonArray budgetsJson() const;  // per paid step's provider: budget, today's spend
    void requireAccessToken(const ListenConfig& listen);

    std::shared_ptr<const Config> m_config;
    AccessGate m_gate;  // listen.accessToken, read when the config is applied
    http::Server* m_server = nullptr;
    http::UpstreamPool* m_pool = nullptr;
    google::TokenCache* m_googleTokens = nullptr;  // Vertex access tokens, per service account
    HealthBoard m_health;
    Clock m_clock;
    SpendGuard m_spend;  // paid steps' daily budgets
    PrefillRefusals m_prefillRefusals;  // targets that answered a prefill with 400: never sent one again
    HealthBoard m_passThroughHealth;  // paused: forgets every failure, so nothing is ever skipped
    bool m_paused = false;
    Telemetry* m_telemetry;
    std::optional<UsageSnapshot> m_usage;  // none until a ledger runs
    qint64 m_startedMs;
};

// Runs a Proxy on a worker thread, so that the tray stays responsive and the proxy never waits on the UI.
class ProxyThread : public QObject {
    Q_OBJECT
public:
    explicit ProxyThread(QObject* parent = nullptr);
    ~ProxyThread() override;

    // Queued to the proxy thread.
    void applyConfig(std::shared_ptr<const Config> config);
    // For connecting to its signals (queued across threads); never call it directly from another thread.
    Proxy* proxy() const { return m_proxy; }

private:
    QThread m_thread;
    Proxy* m_proxy;
};

}  // namespace understudy
