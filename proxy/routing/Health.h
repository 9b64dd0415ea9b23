#pragma once

#include "routing/FailoverPolicy.h"

#include <QHash>
#include <QList>
#include <QString>

#include <optional>

namespace understudy {

// A target's health as shown in /status and the tray (a value: safe to copy across threads).
struct TargetHealth {
    enum class State { Healthy, Cooling, Probing };
    QString target;                 // "provider/model"
    State state = State::Healthy;
    qint64 coolingUntilMs = 0;      // epoch ms; meaningful when not Healthy
    qint64 downSinceMs = 0;
    int consecutiveFailures = 0;
    QString reason;                 // why it is cooling
    bool quota = false;
    bool rateLimited = false;       // a rate limit, hit or about to be
};
QString stateName(TargetHealth::State state);
// Why it cools, for /status and the tray: "quota", "rate_limit" or "error".
QString reasonKind(const TargetHealth& health);

// Per-target cooldowns and recovery probes. A cooling target costs nothing: it is skipped without a
// connection until its cooldown ends; then one request at a time probes it, and that probe's success is
// the recovery.
class HealthBoard {
public:
    enum class Admission { Go, Probe, Skip };

    Admission admit(const QString& target, qint64 nowMs);
    // Marks a failed attempt; returns the cooldown end (epoch ms). Without an announced reset, repeated
    // failures cool for interval × 1, 2, 4, 8.
    qint64 recordFailure(const QString& target, const Verdict& verdict, qint64 nowMs, int recoveryIntervalMs);
    // Returns how long the target was down when this success ends an outage (a recovery).
    std::optional<qint64> recordSuccess(const QString& target, qint64 nowMs);
    // The attempt that held the probe ended without a verdict (e.g. the client left).
    void releaseProbe(const QString& target);
    // "Retry now": forget the cooldown.
    void reset(const QString& target);

    TargetHealth health(const QString& target, qint64 nowMs) const;
    QList<TargetHealth> all(qint64 nowMs) const;

private:
    struct Entry {
        TargetHealth health;
        bool probeInFlight = false;
    };
    QHash<QString, Entry> m_entries;
};

}  // namespace understudy
