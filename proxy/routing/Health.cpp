#include "routing/Health.h"

namespace understudy {

QString stateName(TargetHealth::State state) {
    switch (state) {
    case TargetHealth::State::Healthy: return QStringLiteral("healthy");
    case TargetHealth::State::Cooling: return QStringLiteral("cooling");
    case TargetHealth::State::Probing: return QStringLiteral("probing");
    }
    return {};
}

QString reasonKind(const TargetHealth& health) {
    if (health.quota)
        return QStringLiteral("quota");
    if (health.rateLimited)
        return QStringLiteral("rate_limit");
    return QStringLiteral("error");
}

HealthBoard::Admission HealthBoard::admit(const QString& target, qint64 nowMs) {
    auto it = m_entries.find(target);
    if (it == m_entries.end() || it->health.state == TargetHealth::State::Healthy)
        return Admission::Go;
    if (nowMs < it->health.coolingUntilMs || it->probeInFlight)
        return Admission::Skip;
    it->health.state = TargetHealth::State::Probing;
    it->probeInFlight = true;
    return Admission::Probe;
}

qint64 HealthBoard::recordFailure(const QString& target, const Verdict& verdict, qint64 nowMs, int recoveryIntervalMs) {
    Entry& e = m_entries[target];
    TargetHealth& h = e.health;
    if (h.state == TargetHealth::State::Healthy)
        h.downSinceMs = nowMs;
    h.target = target;
    h.consecutiveFailures += 1;
    h.reason = verdict.reason;
    h.quota = verdict.quota;
    h.rateLimited = verdict.rateLimited;
    const qint64 backoff = qint64(recoveryIntervalMs) << std::min(h.consecutiveFailures - 1, 3);
    h.coolingUntilMs = verdict.coolUntilMs ? std::max(*verdict.coolUntilMs, nowMs) : nowMs + backoff;
    h.state = TargetHealth::State::Cooling;
    e.probeInFlight = false;
    return h.coolingUntilMs;
}

std::optional<qint64> HealthBoard::recordSuccess(const QString& target, qint64 nowMs) {
    auto it = m_entries.find(target);
    if (it == m_entries.end())
        return std::nullopt;
    const qint64 downFor = nowMs - it->health.downSinceMs;
    m_entries.erase(it);
    return downFor;
}

void HealthBoard::releaseProbe(const QString& target) {
    auto it = m_entries.find(target);
    if (it != m_entries.end() && it->probeInFlight) {
        it->probeInFlight = false;
        it->health.state = TargetHealth::State::Cooling;
    }
}

void HealthBoard::reset(const QString& target) {
    auto it = m_entries.find(target);
    if (it != m_entries.end()) {
        it->health.coolingUntilMs = 0;
        it->probeInFlight = false;
        it->health.state = TargetHealth::State::Cooling;  // the next request probes it
    }
}

TargetHealth HealthBoard::health(const QString& target, qint64 nowMs) const {
    auto it = m_entries.find(target);
    if (it == m_entries.end()) {
        TargetHealth healthy;
        healthy.target = target;
        return healthy;
    }
    TargetHealth h = it->health;
    if (h.state == TargetHealth::State::Cooling && nowMs >= h.coolingUntilMs)
        h.state = TargetHealth::State::Probing;  // the next request will probe it
    return h;
}

QList<TargetHealth> HealthBoard::all(qint64 nowMs) const {
    QList<TargetHealth> list;
    for (auto it = m_entries.cbegin(); it != m_entries.cend(); ++it)
        list.append(health(it.key(), nowMs));
    return list;
}

}  // namespace understudy
