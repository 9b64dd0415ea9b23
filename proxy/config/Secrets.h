#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

namespace understudy {

struct SecretLookup {
    QByteArray value;  // empty when error is set
    QString error;     // a user-actionable message; never contains the secret
};

// The OS keychain entries a config refers to, read when the config was loaded (config/Keychain.h reads them):
// the keychain answers asynchronously and may be slow or prompt the user, so the request path only ever looks
// here. Holds secret values: never print, log or serialise it.
struct KeychainValues {
    enum class Failure { Missing, Unreachable, Refused };
    struct Unread {
        Failure failure = Failure::Missing;
        QString detail;  // Unreachable / Refused: the keychain's own words; never a secret
    };
    QHash<QString, QByteArray> values;  // entry name -> secret
    QHash<QString, Unread> unread;      // entry name -> why it could not be read
};

// Resolves a secret reference: "env:NAME" reads the environment variable NAME; "keychain:NAME" looks NAME up in
// `keychain`, the entries read with the config (none: the keychain was not read). `owner` names the referencing
// config entry for the message, e.g. "provider 'zai'", and `field` the key that holds the reference
// ("apiKey", "secretAccessKey", ...).
SecretLookup resolveSecret(const QString& reference, const QString& owner,
                           const QString& field = QStringLiteral("apiKey"),
                           const KeychainValues* keychain = nullptr);

// The keychain entry a reference names ("keychain:zai" -> "zai"); empty for any other reference.
QString keychainEntryOf(const QString& reference);

// Whether `reference` has a valid shape: "env:NAME" with NAME an environment variable name (letters, digits and
// '_', not starting with a digit), or "keychain:NAME" with a non-blank NAME.
bool isSecretReference(const QString& reference);

}  // namespace understudy
