#include "LocalToken.h"

#include "config/ConfigFile.h"

#include <QEventLoop>
#include <QFileInfo>
#include <QRandomGenerator>

namespace understudy::local_token {

QByteArray generate() {
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()), bytes.size() / 4);
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

Keychain::Reply await(const std::function<void(Keychain::Callback)>& call) {
    QEventLoop loop;
    Keychain::Reply result;
    bool done = false;
    call([&](Keychain::Reply reply) {
        result = std::move(reply);
        done = true;
        loop.quit();
    });
    if (!done)
        loop.exec();
    return result;
}

Required required(const QString& configPath) {
    if (!QFileInfo::exists(configPath))
        return {};
    const ConfigResult loaded = ConfigFile::load(configPath, false);
    if (!loaded.config || loaded.config->listen.accessToken.isEmpty())
        return {};
    Required token{loaded.config->listen.accessToken, {}, {}};
    KeychainValues keychain;
    if (const QString entry = keychainEntryOf(token.reference); !entry.isEmpty()) {
        Keychain reader;
        QEventLoop loop;
        bool done = false;
        reader.readAll({entry}, [&](KeychainValues values) {
            keychain = std::move(values);
            done = true;
            loop.quit();
        });
        if (!done)
            loop.exec();
    }
    const SecretLookup lookup =
        resolveSecret(token.reference, QStringLiteral("listen"), QStringLiteral("accessToken"), &keychain);
    token.value = lookup.value;
    token.error = lookup.error;
    return token;
}

}  // namespace understudy::local_token
