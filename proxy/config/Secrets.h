#pragma once

#include <QByteArray>
#include <QString>

namespace understudy {

struct SecretLookup {
    QByteArray value;  // empty when error is set
    QString error;     // a user-actionable message; never contains the secret
};

// Resolves a secret reference: "env:NAME" reads the environment variable NAME. "keychain:NAME" is not yet
// supported and says so. `owner` names the referencing config entry for the message, e.g. "provider 'zai'",
// and `field` the key that holds the reference ("apiKey", "secretAccessKey", ...).
SecretLookup resolveSecret(const QString& reference, const QString& owner,
                           const QString& field = QStringLiteral("apiKey"));

// Whether `reference` has a valid shape: "env:NAME" with NAME an environment variable name (letters, digits and
// '_', not starting with a digit), or "keychain:NAME" with a non-blank NAME.
bool isSecretReference(const QString& reference);

}  // namespace understudy
