#pragma once

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>

namespace understudy::ui {

// Settings → Providers → Test: one real, minimal request to a provider as configured (its model list, with its
// stored key), so a wrong URL or key shows up with the provider's exact answer before a failover needs it. It
// costs no tokens. The key is sent to the provider only and never appears in the result.
class ProviderTest : public QObject {
    Q_OBJECT
public:
    explicit ProviderTest(QObject* parent = nullptr);

    // Tests the provider `id` with these config `fields`; finished() follows, also for what cannot be tested.
    void start(const QString& id, const QJsonObject& fields);

Q_SIGNALS:
    void finished(bool ok, const QString& message);

private:
    QNetworkAccessManager m_network;
    QNetworkReply* m_reply = nullptr;  // the test under way; a new one replaces it
};

}  // namespace understudy::ui
