#include "Notification.h"

#include "Status.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

namespace understudy::ui {
namespace {

const QString kArrow = QStringLiteral(" → ");

QString field(const ProxyEvent& event, const char* name) { return event.fields.value(QLatin1String(name)).toString(); }

QString downFor(qint64 ms) {
    const qint64 minutes = ms / 60000;
    return minutes < 1 ? QStringLiteral("%1 s").arg(ms / 1000) : QStringLiteral("%1 min").arg(minutes);
}

}  // namespace

std::optional<Notification> NotificationPolicy::onEvent(const ProxyEvent& event, qint64 nowMs) {
    if (event.type == QLatin1String("failover"))
        return failover(event, nowMs);
    if (event.type == QLatin1String("recovery"))
        return recovery(event, nowMs);
    if (event.type == QLatin1String("request"))
        return requestDone(event);
    if (event.type == QLatin1String("cooldown"))
        return cooldown(event);
    if (event.type == QLatin1String("budget") || event.type == QLatin1String("spending"))
        return spend(event);
    return std::nullopt;
}

std::optional<Notification> NotificationPolicy::onListenFailed(const QString& message) {
    return shown({Notification::Kind::Stopped, QStringLiteral("Understudy is not running"), message});
}

std::optional<Notification> NotificationPolicy::failover(const ProxyEvent& event, qint64 nowMs) {
    const QString from = field(event, "from"), to = field(event, "to");
    const QString key = from + kArrow + to;
    if (m_told.contains(key))
        return std::nullopt;
    m_told.insert(key);
    if (m_quotaOut.contains(from))
        return std::nullopt;  // the quota notification said it: the next step serves until the reset
    m_switchTimes.append(nowMs);
    while (!m_switchTimes.isEmpty() && nowMs - m_switchTimes.first() >= kStormWindowMs)
        m_switchTimes.removeFirst();
    if (stormQuiet(nowMs))
        return std::nullopt;
    if (m_switchTimes.size() > kStormSwitches) {
        m_stormAlertMs = nowMs;
        return shown({Notification::Kind::Storm, QStringLiteral("Models keep switching"),
                      QStringLiteral("%1 switches in %2 minutes, the last %3. Understudy keeps serving but stays quiet "
                                     "about switches for %2 minutes; the Status window lists each one.")
                          .arg(m_switchTimes.size()).arg(kStormWindowMs / 60000).arg(key)});
    }
    return shown({Notification::Kind::Failover, QStringLiteral("Switched to %1").arg(to),
                  key + QStringLiteral(": ") + field(event, "reason")});
}

std::optional<Notification> NotificationPolicy::recovery(const ProxyEvent& event, qint64 nowMs) {
    const QString target = field(event, "target");
    const qsizetype before = m_told.size();
    m_told.removeIf([&](const QString& key) { return key.startsWith(target + kArrow); });
    if (m_quotaOut.remove(target))
        return shown({Notification::Kind::QuotaBack, QStringLiteral("%1 is back").arg(displayName(target)),
                      QStringLiteral("%1 answers again: its quota has reset.").arg(target)});
    if (m_told.size() == before || stormQuiet(nowMs))
        return std::nullopt;  // the user never heard it was down, or asked for quiet by the storm
    const qint64 down = static_cast<qint64>(event.fields.value(QLatin1String("downForMs")).toDouble());
    return shown({Notification::Kind::Recovery, QStringLiteral("Back on %1").arg(target),
                  QStringLiteral("%1 answers again after %2 down.").arg(target, downFor(down))});
}

std::optional<Notification> NotificationPolicy::requestDone(const ProxyEvent& event) {
    const QString chain = field(event, "chain");
    if (field(event, "outcome") != QLatin1String("all_failed")) {
        if (!field(event, "servedBy").isEmpty())
            m_allDownChains.remove(chain);
        return std::nullopt;
    }
    if (m_allDownChains.contains(chain))
        return std::nullopt;
    m_allDownChains.insert(chain);
    QStringList attempts;
    for (const QJsonValue& a : event.fields.value(QLatin1String("attempts")).toArray())
        attempts.append(a.toObject().value(QLatin1String("target")).toString() + QStringLiteral(": ")
                        + a.toObject().value(QLatin1String("outcome")).toString());
    return shown({Notification::Kind::AllDown, QStringLiteral("Every model of chain '%1' is down").arg(chain),
                  attempts.join(QStringLiteral("; "))});
}

std::optional<Notification> NotificationPolicy::cooldown(const ProxyEvent& event) {
    const QString target = field(event, "target");
    if (!event.fields.value(QLatin1String("quota")).toBool() || m_quotaOut.contains(target))
        return std::nullopt;
    m_quotaOut.insert(target);
    const QDateTime until = QDateTime::fromString(field(event, "until"), Qt::ISODateWithMs);
    const QString back = until.isValid() ? QStringLiteral(" back at %1").arg(clockTime(until.toMSecsSinceEpoch()))
                                         : QString();
    return shown({Notification::Kind::Quota, QStringLiteral("%1 quota used up,%2").arg(displayName(target), back),
                  QStringLiteral("%1: %2. Understudy uses the next step of the chain until then.")
                      .arg(target, field(event, "reason"))});
}

std::optional<Notification> NotificationPolicy::spend(const ProxyEvent& event) {
    const QString provider = field(event, "provider");
    const double budget = event.fields.value(QLatin1String("dailyBudgetUsd")).toDouble();
    const double spent = event.fields.value(QLatin1String("spentUsd")).toDouble();
    if (event.type == QLatin1String("budget"))
        return shown({Notification::Kind::Budget, QStringLiteral("Daily budget of $%1 reached on %2").arg(budget).arg(provider),
                      QStringLiteral("$%1 spent on %2 today: that step is skipped until midnight.")
                          .arg(spent, 0, 'f', 2).arg(provider)});
    return shown({Notification::Kind::Spending, QStringLiteral("Now spending on %1").arg(provider),
                  QStringLiteral("Your subscription's model is unavailable, so requests go to %1, a paid step "
                                 "(budget $%2 a day, $%3 spent so far).")
                      .arg(field(event, "target")).arg(budget).arg(spent, 0, 'f', 2)});
}

bool NotificationPolicy::stormQuiet(qint64 nowMs) const {
    return m_stormAlertMs && nowMs - *m_stormAlertMs < kStormWindowMs;
}

std::optional<Notification> NotificationPolicy::shown(Notification notification) const {
    if (!m_enabled)
        return std::nullopt;
    return notification;
}

}  // namespace understudy::ui
