#pragma once

#include "ClientConnection.h"
#include "config/Config.h"
#include "routing/Health.h"
#include "telemetry/Ledger.h"
#include "telemetry/Telemetry.h"

#include <QList>
#include <QMap>
#include <QSet>
#include <QString>
#include <QStringList>

namespace understudy::ui {

// What the tray icon says at a glance.
enum class TrayState { Primary, Fallback, AllDown, Paused, Stopped };

// The target answering a chain's requests, and since when.
struct Serving {
    QString target;      // "provider/model"
    int depth = 0;       // 0: the chain's first step
    qint64 sinceMs = 0;  // when it took over
};

// One row of "last switches".
struct Switch {
    enum class Kind { Failover, Recovery, AllDown };
    Kind kind = Kind::Failover;
    qint64 timeMs = 0;
    QString chain;
    QString from;    // Failover: the target that failed; Recovery: the target that is back
    QString to;      // Failover only
    QString reason;  // Failover: why; Recovery: how long it was down; AllDown: what the last attempt said
};

struct TargetStatus {
    TargetHealth health;
    int served = 0;  // requests it answered since Understudy started
};

// Everything the tray and the status window show: a value, rebuilt from the proxy's events by StatusBoard.
struct Status {
    bool listening = false;
    QString listenUrl;      // "http://127.0.0.1:8790" while listening
    QString stoppedReason;  // why the proxy is not listening, with the fix
    bool paused = false;
    QString activeChain;
    QStringList chains;
    QMap<QString, QString> clientChains;  // client → the chain it uses instead of the active one
    QMap<QString, Serving> serving;       // chain → who answers it
    QSet<QString> allDownChains;          // chains whose last request found every target down
    QList<Switch> switches;               // newest first
    QMap<QString, TargetStatus> targets;  // every target seen, by "provider/model"
    std::optional<UsageSnapshot> usage;   // the ledger's latest figures; none until its first snapshot
    QString usageProblem;                 // why the ledger cannot record or show usage; empty when it can
    QList<ClientConnection> connections;  // per coding agent: do its settings point here
    QMap<QString, Serving> clientServing; // client ("claude-code", from its User-Agent) → who answered it last

    TrayState trayState() const;
    // One sentence for the tooltip and the status window, e.g. "Serving zai/glm-5 (fallback) since 14:03".
    QString headline() const;
    // When the cooling targets are back, e.g. "Opus back at 14:05 (quota)"; empty when none cools at `nowMs`.
    QString comebacks(qint64 nowMs) const;
};

// A cooling target whose cooldown has ended is being probed by the next request.
TargetHealth::State stateAt(const TargetHealth& health, qint64 nowMs);
QString clockTime(qint64 epochMs);  // "14:03"
// A target as the user calls it: "Opus" for "anthropic/claude-opus-4-6", else its model ("zai/glm-5" → "glm-5").
QString displayName(const QString& target);

// Folds what the proxy reports (its events, listen results) and what the user did (pause, retry) into a Status.
// Pure: no widgets, no clock, so the tests drive it with plain values.
class StatusBoard {
public:
    void applyConfig(const Config& config);
    void listening(const QString& host, quint16 port);
    void listenFailed(const QString& message);
    void setPaused(bool paused) { m_status.paused = paused; }
    // "Retry now" was asked for: the proxy probes the target with the next request.
    void retrying(const QString& target);
    void setConnections(const QList<ClientConnection>& connections) { m_status.connections = connections; }
    void record(const ProxyEvent& event);
    // The ledger's figures, computed on its thread: the status window never queries the database itself.
    void usage(const UsageSnapshot& snapshot);
    void usageFailed(const QString& message) { m_status.usageProblem = message; }

    const Status& status() const { return m_status; }

private:
    void requestDone(const ProxyEvent& event);
    void failedOver(const ProxyEvent& event);
    void recovered(const ProxyEvent& event);
    void cooled(const ProxyEvent& event);
    void addSwitch(Switch entry);
    TargetStatus& target(const QString& key);

    Status m_status;
};

}  // namespace understudy::ui
