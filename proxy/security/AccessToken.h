#pragma once

#include "http/Message.h"
#include "security/Access.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace understudy {

// The local access token (listen.accessToken, docs/security.md): when one is set, only a request that carries
// it is served, so another user of this machine, or anyone on the network when listening off loopback, cannot
// spend the user's keys. Clients differ in what they let a user set, so the token is accepted in three places:
//   - the header  x-understudy-token: <token>;
//   - a path prefix  /t/<token>/...  (put it in the client's base URL: http://127.0.0.1:8790/t/<token>);
//   - the client's API key (x-api-key, or Authorization: Bearer), for chains whose steps use stored keys.
// Wherever it was, it is taken out of the request, so it never reaches an upstream.
class AccessGate {
public:
    // `token` empty: no token is required. `unreadable` set: a token is configured but could not be read, and
    // every request (but /healthz) is refused with that reason rather than let in unchecked.
    void require(const QByteArray& token, const QString& unreadable = {});
    bool isRequired() const { return m_required; }

    // Removes the token from `request` and says why the request is refused, if it is. Never refuses /healthz.
    std::optional<Refusal> admit(http::Request& request) const;

private:
    bool carriesToken(QByteArrayView candidate) const;

    bool m_required = false;
    QByteArray m_digest;  // SHA-256 of the token: compared in constant time, whatever the candidate's length
    QString m_unreadable;
};

// Whether two secrets are equal, in time that depends on neither's content nor length.
bool sameSecret(QByteArrayView a, QByteArrayView b);

}  // namespace understudy
