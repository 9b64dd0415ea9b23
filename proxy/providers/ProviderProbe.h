#pragma once

#include "config/Config.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>

class QNetworkAccessManager;
class QNetworkReply;

namespace understudy {

// What one test request to a provider showed.
struct ProbeResult {
    bool ok = false;
    int status = 0;       // the HTTP status; 0 when no answer came (network, timeout, configuration)
    QString model;        // the model that answered (the response's "model"), or the one asked for
    qint64 latencyMs = 0; // from sending the request to the whole answer
    QString message;      // on failure: why, in the provider's own words where it gave any; never the key
};

// Tests a provider's credentials and URL with one minimal real request (a one-word prompt, max_tokens 1), as
// `understudy test-provider` and the settings "Test" action do before a provider goes active. Asynchronous: the
// answer comes as `finished`, once.
class ProviderProbe : public QObject {
    Q_OBJECT
public:
    static constexpr int kTimeoutMs = 30000;

    explicit ProviderProbe(QObject* parent = nullptr);

    // `keychain`: the keychain entries read for the provider's references (none: keychain references fail).
    void start(const ProviderConfig& provider, const QString& model, const KeychainValues* keychain = nullptr);

Q_SIGNALS:
    void finished(const understudy::ProbeResult& result);

private:
    void onFinished(QNetworkReply* reply);
    void fail(const QString& message);

    QNetworkAccessManager* m_network;
    QElapsedTimer m_clock;
    QString m_model;
    QByteArray m_key;  // kept only to scrub it from what the provider says back
};

}  // namespace understudy
