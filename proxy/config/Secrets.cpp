#include "config/Secrets.h"

#include <QtGlobal>

#include <algorithm>

namespace understudy {

namespace {

const QString kEnvPrefix = QStringLiteral("env:");
const QString kKeychainPrefix = QStringLiteral("keychain:");

bool isEnvironmentName(QStringView name) {
    const auto allowed = [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'_';
    };
    return !name.isEmpty() && !name.front().isDigit() && std::all_of(name.begin(), name.end(), allowed);
}

bool isKeychainName(QStringView name) {
    return !name.trimmed().isEmpty() &&
           std::none_of(name.begin(), name.end(), [](QChar c) { return c.category() == QChar::Other_Control; });
}

SecretLookup fromKeychain(const QString& name, const QString& subject, const KeychainValues* keychain) {
    const QString refers = QStringLiteral("%1 refers to keychain entry '%2'").arg(subject, name);
    if (keychain) {
        if (const auto found = keychain->values.constFind(name); found != keychain->values.cend())
            return {*found, {}};
        if (const auto unread = keychain->unread.constFind(name); unread != keychain->unread.cend()) {
            if (unread->failure == KeychainValues::Failure::Missing)
                return {{}, QStringLiteral("%1, which does not exist; add it with: understudy keys set %2")
                                .arg(refers, name)};
            if (unread->failure == KeychainValues::Failure::Refused)
                return {{}, QStringLiteral("%1, which the OS keychain refused to give (%2)").arg(refers, unread->detail)};
            return {{}, QStringLiteral("%1, but no OS keychain is reachable (%2); on a machine without one, put "
                                       "the key in an environment variable and refer to it as env:NAME instead")
                            .arg(refers, unread->detail)};
        }
    }
    return {{}, QStringLiteral("%1, which was not read from the OS keychain when the config was loaded")
                    .arg(refers)};
}

}  // namespace

bool isSecretReference(const QString& reference) {
    if (reference.startsWith(kEnvPrefix))
        return isEnvironmentName(QStringView(reference).mid(kEnvPrefix.size()));
    if (reference.startsWith(kKeychainPrefix))
        return isKeychainName(QStringView(reference).mid(kKeychainPrefix.size()));
    return false;
}

QString keychainEntryOf(const QString& reference) {
    return reference.startsWith(kKeychainPrefix) ? reference.mid(kKeychainPrefix.size()) : QString();
}

SecretLookup resolveSecret(const QString& reference, const QString& owner, const QString& field,
                           const KeychainValues* keychain) {
    const QString subject = owner + QStringLiteral(": ") + field;
    if (!isSecretReference(reference))
        return {{},
                QStringLiteral("%1 is not a secret reference; write env:NAME or keychain:NAME "
                               "(the value is not shown here)")
                    .arg(subject)};
    if (reference.startsWith(kKeychainPrefix))
        return fromKeychain(keychainEntryOf(reference), subject, keychain);
    const QString name = reference.mid(kEnvPrefix.size());
    const QByteArray variable = name.toLatin1();  // isEnvironmentName admits ASCII only
    if (!qEnvironmentVariableIsSet(variable.constData()))
        return {{}, QStringLiteral("%1 refers to environment variable %2, which is not set").arg(subject, name)};
    // A key pasted into a .env file or a Windows "set" often carries a stray space or newline, which would
    // otherwise end up inside an HTTP header and fail as a bad key.
    const QByteArray value = qgetenv(variable.constData()).trimmed();
    if (value.isEmpty())
        return {{}, QStringLiteral("%1 refers to environment variable %2, which is empty").arg(subject, name)};
    return {value, {}};
}

}  // namespace understudy
