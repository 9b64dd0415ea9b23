#pragma once

#include "config/Keychain.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace understudy::local_token {

// Where `understudy token --enable` keeps the token: the OS keychain entry "access-token" (service "understudy"),
// referred to from the config as "keychain:access-token".
inline const QString kKeychainEntry = QStringLiteral("access-token");

// 256 random bits from the system's generator, URL-safe base64: it can go in a header or a path as it is.
QByteArray generate();

// Runs one keychain call to its end, for the command line, which has nothing else to do meanwhile.
Keychain::Reply await(const std::function<void(Keychain::Callback)>& call);

// The access token the config at `configPath` requires, read now (from the environment, or from the OS keychain,
// waited for): an empty value and no error when the config requires none, or does not exist or validate (then
// the proxy serves nobody with it either).
struct Required {
    QString reference;  // listen.accessToken, e.g. "keychain:access-token"
    QByteArray value;
    QString error;  // required but unreadable: why, never the token
};
Required required(const QString& configPath);

}  // namespace understudy::local_token
