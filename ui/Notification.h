#pragma once

#include "telemetry/Telemetry.h"

#include <QList>
#include <QSet>
#include <QString>

#include <optional>

namespace understudy::ui {

struct Notification {
    // Problem, Done: how an action of the user ended. Quota / QuotaBack: a plan or spend limit ran out / is back.
    // Budget: a paid step's daily budget is spent. Spending: requests now go to a paid step instead of the
    // subscription.
    enum class Kind { Failover, Recovery, AllDown, Storm, Stopped, Problem, Done, Quota, QuotaBack, Budget, Spending };
    Kind kind = Kind::Failover;
    QString title;
    QString message;
};

// Which proxy events become desktop notifications. The user hears about every switch, recovery and outage,
// but never gets a storm:
// - concurrent requests that fail over the same way are one switch (told once, until its source recovers);
// - more than kStormSwitches switches within kStormWindowMs give one alert, then quiet for that window;
// - "every target is down" is told once per chain, until the chain serves again;
// - a target's quota running out is told once (instead of the switch away from it), and once when it is back;
// - a reached daily budget and a move to paid tokens are told as the proxy reports them (once a day).
// Pure: the caller passes the time, so tests need no clock.
class NotificationPolicy {
public:
    static constexpr int kStormSwitches = 3;
    static constexpr qint64 kStormWindowMs = 10 * 60 * 1000;

    // Switched off, the policy keeps following events (so switching it on later does not replay old news)
    // but returns nothing.
    void setEnabled(bool enabled) { m_enabled = enabled; }
    bool isEnabled() const { return m_enabled; }

    std::optional<Notification> onEvent(const ProxyEvent& event, qint64 nowMs);
    std::optional<Notification> onListenFailed(const QString& message);

private:
    std::optional<Notification> failover(const ProxyEvent& event, qint64 nowMs);
    std::optional<Notification> recovery(const ProxyEvent& event, qint64 nowMs);
    std::optional<Notification> requestDone(const ProxyEvent& event);
    std::optional<Notification> cooldown(const ProxyEvent& event);
    std::optional<Notification> spend(const ProxyEvent& event);
    bool stormQuiet(qint64 nowMs) const;
    std::optional<Notification> shown(Notification notification) const;

    bool m_enabled = true;
    QSet<QString> m_told;            // "from→to" switches the user has heard of, until `from` recovers
    QList<qint64> m_switchTimes;     // switches within the storm window
    std::optional<qint64> m_stormAlertMs;
    QSet<QString> m_allDownChains;
    QSet<QString> m_quotaOut;        // targets whose quota the user has heard is used up
};

}  // namespace understudy::ui
