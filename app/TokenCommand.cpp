#include "TokenCommand.h"

#include "config/ConfigFile.h"
#include "config/Secrets.h"

#include <QRandomGenerator>

#include <cstdio>

namespace understudy {
namespace {

constexpr int kExitUsage = 2;

// 256 random bits, URL-safe: it can go in a path (/t/<token>) and a header as it is.
QByteArray newToken() {
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()), bytes.size() / 4);
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

int printConfiguredToken(const QString& path) {
    const ConfigResult loaded = ConfigFile::load(path, false);
    if (!loaded.config) {
        for (const ConfigProblem& p : loaded.problems)
            std::fprintf(stderr, "%s: %s: %s\n", qPrintable(path), qPrintable(p.path), qPrintable(p.message));
        return kExitUsage;
    }
    const QString reference = loaded.config->listen.accessToken;
    if (reference.isEmpty()) {
        std::fprintf(stderr,
                     "understudy: %s sets no access token, so none is required. To require one: run `understudy token "
                     "--new`, store the token (e.g. export UNDERSTUDY_TOKEN=<token>), and add \"accessToken\": "
                     "\"env:UNDERSTUDY_TOKEN\" to \"listen\" in the config.\n",
                     qPrintable(path));
        return 1;
    }
    const SecretLookup token = resolveSecret(reference, QStringLiteral("listen"), QStringLiteral("accessToken"));
    if (!token.error.isEmpty()) {
        std::fprintf(stderr, "understudy: %s\n", qPrintable(token.error));
        return 1;
    }
    std::printf("%s\n", token.value.constData());
    return 0;
}

}  // namespace

int runTokenCommand(const QStringList& arguments) {
    if (arguments == QStringList{QStringLiteral("--new")}) {
        std::printf("%s\n", newToken().constData());
        return 0;
    }
    if (arguments.isEmpty())
        return printConfiguredToken(ConfigFile::defaultPath());
    if (arguments.size() == 2 && arguments.first() == QLatin1String("--config"))
        return printConfiguredToken(arguments.at(1));
    std::fprintf(stderr, "usage: understudy token [--config FILE] | understudy token --new\n");
    return kExitUsage;
}

}  // namespace understudy
