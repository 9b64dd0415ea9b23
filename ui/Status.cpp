#include "Status.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

namespace understudy::ui {
namespace {

constexpr qsizetype kSwitchesKept = 50;

qint64 isoToMs(const QString& iso) {
    return QDateTime::fromString(iso, Qt::ISODateWithMs).toMSecsSinceEpoch();
}

QString downFor(qint64 ms) {
    const qint64 minutes = ms / 60000;
    if (minutes < 1)
        return QStringLiteral("%1 s").arg(ms / 1000);
    if (minutes < 120)
        return QStringLiteral("%1 min").arg(minutes);
    return QStringLiteral("%1 h").arg(minutes / 60);
}

// The last attempt's outcome names why the request failed, e.g. "zai/glm-5: 529 overloaded".
QString lastAttempt(const ProxyEvent& event) {
    const QJsonArray attempts = event.fields.value(QStringLiteral("attempts")).toArray();
    if (attempts.isEmpty())
        return {};
    const QJsonObject last = attempts.last().toObject();
    return last.value(QLatin1String("target")).toString() + QStringLiteral(": ")
         + last.value(QLatin1String("outcome")).toString();
}

}  // namespace

TargetHealth::State stateAt(const TargetHealth& health, qint64 nowMs) {
    if (health.state == TargetHealth::State::Cooling && nowMs >= health.coolingUntilMs)
        return TargetHealth::State::Probing;
    return health.state;
}

QString clockTime(qint64 epochMs) { return QDateTime::fromMSecsSinceEpoch(epochMs).toString(QStringLiteral("HH:mm")); }

QString displayName(const QString& target) {
    const QString model = target.section(QLatin1Char('/'), 1);
    for (const char* family : {"opus", "sonnet", "haiku", "mythos"}) {
        const QString name = QString::fromLatin1(family);
        if (model.contains(QStringLiteral("claude-") + name, Qt::CaseInsensitive))
            return name.left(1).toUpper() + name.mid(1);
    }
    return model.isEmpty() ? target : model;
}

QString Status::comebacks(qint64 nowMs) const {
    QStringList parts;
    for (const TargetStatus& t : targets) {
        if (stateAt(t.health, nowMs) != TargetHealth::State::Cooling)
            continue;
        const QString why = t.health.quota ? QStringLiteral(" (quota)")
                          : t.health.rateLimited ? QStringLiteral(" (rate limit)") : QString();
        parts.append(QStringLiteral("%1 back at %2%3").arg(displayName(t.health.target), clockTime(t.health.coolingUntilMs), why));
    }
    return parts.join(QStringLiteral("; "));
}

TrayState Status::trayState() const {
    if (!listening)
        return TrayState::Stopped;
    if (paused)
        return TrayState::Paused;
    if (!allDownChains.isEmpty())
        return TrayState::AllDown;
    for (const Serving& s : serving) {
        if (s.depth > 0)
            return TrayState::Fallback;
    }
    return TrayState::Primary;
}

QString Status::headline() const {
    if (!listening)
        return stoppedReason.isEmpty() ? QStringLiteral("Starting…") : QStringLiteral("Stopped: ") + stoppedReason;
    if (paused)
        return QStringLiteral("Failover paused: every request goes to the first step of its chain");
    if (allDownChains.contains(activeChain))
        return QStringLiteral("Every target of chain '%1' is down").arg(activeChain);
    const auto current = serving.constFind(activeChain);
    if (current == serving.cend())
        return QStringLiteral("Ready on %1, chain '%2'; no requests yet").arg(listenUrl, activeChain);
    return QStringLiteral("Serving %1%2 since %3")
        .arg(current->target, current->depth > 0 ? QStringLiteral(" (fallback %1)").arg(current->depth) : QString(),
             clockTime(current->sinceMs));
}

void StatusBoard::applyConfig(const Config& config) {
    m_status.activeChain = config.activeChain;
    m_status.chains = config.chains.keys();
    m_status.clientChains = config.clients;
    for (auto it = m_status.serving.begin(); it != m_status.serving.end();) {
        it = config.chains.contains(it.key()) ? std::next(it) : m_status.serving.erase(it);
    }
}

void StatusBoard::listening(const QString& host, quint16 port) {
    m_status.listening = true;
    m_status.listenUrl = QStringLiteral("http://%1:%2").arg(host).arg(port);
    m_status.stoppedReason.clear();
}

void StatusBoard::listenFailed(const QString& message) {
    m_status.listening = false;
    m_status.listenUrl.clear();
    m_status.stoppedReason = message;
}

void StatusBoard::retrying(const QString& key) {
    TargetHealth& h = target(key).health;
    if (h.state != TargetHealth::State::Healthy) {
        h.state = TargetHealth::State::Probing;
        h.coolingUntilMs = 0;
    }
}

void StatusBoard::record(const ProxyEvent& event) {
    if (event.type == QLatin1String("request"))
        requestDone(event);
    else if (event.type == QLatin1String("failover"))
        failedOver(event);
    else if (event.type == QLatin1String("recovery"))
        recovered(event);
    else if (event.type == QLatin1String("cooldown"))
        cooled(event);
}

void StatusBoard::usage(const UsageSnapshot& snapshot) {
    m_status.usage = snapshot;
    m_status.usageProblem.clear();  // the database answers again; a write that still fails reports again
}

void StatusBoard::requestDone(const ProxyEvent& event) {
    const QString chain = event.fields.value(QStringLiteral("chain")).toString();
    const QString outcome = event.fields.value(QStringLiteral("outcome")).toString();
    if (outcome == QLatin1String("all_failed")) {
        if (!m_status.allDownChains.contains(chain)) {
            m_status.allDownChains.insert(chain);
            addSwitch({Switch::Kind::AllDown, event.timeMs, chain, {}, {}, lastAttempt(event)});
        }
        return;
    }
    const QString servedBy = event.fields.value(QStringLiteral("servedBy")).toString();
    if (servedBy.isEmpty())
        return;  // a client error or a rejected request says nothing about who serves
    m_status.allDownChains.remove(chain);
    target(servedBy).served += 1;
    Serving& serving = m_status.serving[chain];
    if (serving.target != servedBy)
        serving = {servedBy, event.fields.value(QStringLiteral("fallbackDepth")).toInt(), event.timeMs};
    const QString client = event.fields.value(QStringLiteral("client")).toString();
    if (!client.isEmpty() && m_status.clientServing.value(client).target != servedBy)
        m_status.clientServing[client] = {servedBy, serving.depth, event.timeMs};
}

void StatusBoard::failedOver(const ProxyEvent& event) {
    addSwitch({Switch::Kind::Failover, event.timeMs, event.fields.value(QStringLiteral("chain")).toString(),
               event.fields.value(QStringLiteral("from")).toString(), event.fields.value(QStringLiteral("to")).toString(),
               event.fields.value(QStringLiteral("reason")).toString()});
}

void StatusBoard::recovered(const ProxyEvent& event) {
    const QString key = event.fields.value(QStringLiteral("target")).toString();
    target(key).health = TargetHealth{key};
    const qint64 down = static_cast<qint64>(event.fields.value(QStringLiteral("downForMs")).toDouble());
    addSwitch({Switch::Kind::Recovery, event.timeMs, event.fields.value(QStringLiteral("chain")).toString(), key, {},
               QStringLiteral("answers again after %1 down").arg(downFor(down))});
}

void StatusBoard::cooled(const ProxyEvent& event) {
    const QString key = event.fields.value(QStringLiteral("target")).toString();
    TargetHealth& h = target(key).health;
    if (h.state == TargetHealth::State::Healthy)
        h.downSinceMs = event.timeMs;
    h.state = TargetHealth::State::Cooling;
    h.coolingUntilMs = isoToMs(event.fields.value(QStringLiteral("until")).toString());
    h.reason = event.fields.value(QStringLiteral("reason")).toString();
    h.quota = event.fields.value(QStringLiteral("quota")).toBool();
    h.rateLimited = event.fields.value(QStringLiteral("reasonKind")).toString() == QLatin1String("rate_limit");
    h.consecutiveFailures += 1;
}

void StatusBoard::addSwitch(Switch entry) {
    m_status.switches.prepend(std::move(entry));
    if (m_status.switches.size() > kSwitchesKept)
        m_status.switches.removeLast();
}

TargetStatus& StatusBoard::target(const QString& key) {
    TargetStatus& t = m_status.targets[key];
    t.health.target = key;
    return t;
}

}  // namespace understudy::ui
