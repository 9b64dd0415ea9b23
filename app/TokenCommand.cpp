#include "TokenCommand.h"

#include "Connect.h"
#include "LocalToken.h"
#include "config/ConfigFile.h"
#include "config/Keychain.h"
#include "config/Secrets.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QTextStream>

namespace understudy {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

const QStringList kTokenPath{QStringLiteral("listen"), QStringLiteral("accessToken")};

const char* const kUsage = "usage: understudy token [--config FILE]        print the access token the config requires\n"
                           "       understudy token --enable [--env NAME] [--config FILE]\n"
                           "       understudy token --disable [--config FILE]\n"
                           "       understudy token --new                  print a fresh random token\n";

struct Streams {
    QTextStream out{stdout};
    QTextStream err{stderr};
};

int problems(Streams& io, const QString& path, const QList<ConfigProblem>& found) {
    for (const ConfigProblem& p : found)
        io.err << path << ": " << p.path << ": " << p.message << Qt::endl;
    return kExitUsage;
}

int printToken(Streams& io, const QString& path) {
    const local_token::Required token = local_token::required(path);
    if (!token.error.isEmpty()) {
        io.err << "understudy: " << token.error << Qt::endl;
        return kExitFailed;
    }
    if (token.reference.isEmpty()) {
        io.err << "understudy: " << path << " requires no access token, so none is needed. `understudy token --enable` "
               << "turns one on: it is generated, kept in the OS keychain, and given to the clients connected with "
               << "`understudy connect`." << Qt::endl;
        return kExitFailed;
    }
    io.out << token.value << Qt::endl;
    return 0;
}

// The token in the keychain entry, made and stored first when there is none yet; empty with `error` set when
// the keychain cannot be used.
QByteArray keychainToken(QString& error) {
    Keychain keychain;
    const QString entry = local_token::kKeychainEntry;
    const Keychain::Reply existing = local_token::await([&](Keychain::Callback done) { keychain.read(entry, done); });
    if (existing.status == Keychain::Reply::Status::Ok && !existing.value.isEmpty())
        return existing.value;
    if (existing.status == Keychain::Reply::Status::Missing) {
        const QByteArray token = local_token::generate();
        const Keychain::Reply stored =
            local_token::await([&](Keychain::Callback done) { keychain.storeKey(entry, token, done); });
        if (stored.status == Keychain::Reply::Status::Ok)
            return token;
        error = Keychain::describe(stored, entry);
        return {};
    }
    error = Keychain::describe(existing, entry);
    return {};
}

QString saveEdited(const QString& path, const connect::Edit& edit) {
    if (!edit.error.isEmpty())
        return QStringLiteral("%1: %2").arg(path, edit.error);
    return edit.changed ? ConfigFile::save(path, edit.text) : QString();
}

std::optional<QByteArray> readDocument(Streams& io, const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        io.err << "understudy: cannot read " << path << ": " << file.errorString() << Qt::endl;
        return std::nullopt;
    }
    return file.readAll();
}

// The clients connect had pointed at the proxy get the token too, so turning it on breaks none of them.
int reconnectClients(Streams& io, const Config& config, const QByteArray& token) {
    const QList<connect::Client> clients = connect::connectedClients();
    if (clients.isEmpty()) {
        io.out << "No client was connected with `understudy connect`; those connected from now on get the token. "
               << "Others must send it in the header x-understudy-token (`understudy token` prints it)." << Qt::endl;
        return 0;
    }
    int code = 0;
    const QString url = connect::proxyUrl(config.listen.host, config.listen.port);
    for (const connect::Client client : clients) {
        const connect::Outcome outcome = connect::connectClient(client, QDir::homePath(), url, token);
        (outcome.ok ? io.out : io.err) << outcome.message << Qt::endl;
        code = outcome.ok ? code : kExitFailed;
    }
    io.out << "Restart the agents that are running, so that they read their new settings." << Qt::endl;
    return code;
}

int enable(Streams& io, const QString& path, const QString& envName) {
    // Like the app, a first run creates the default config; a file named with --config must exist.
    const ConfigResult loaded = ConfigFile::load(path, path == ConfigFile::defaultPath());
    if (!loaded.config)
        return problems(io, path, loaded.problems);
    QByteArray token;
    if (!loaded.config->listen.accessToken.isEmpty()) {
        const local_token::Required required = local_token::required(path);
        if (!required.error.isEmpty()) {
            io.err << "understudy: " << required.error << Qt::endl;
            return kExitFailed;
        }
        io.out << path << " already requires an access token (" << required.reference << ")." << Qt::endl;
        token = required.value;
    } else {
        QString reference;
        QString error;
        if (!envName.isEmpty()) {
            reference = QStringLiteral("env:") + envName;
            const SecretLookup lookup =
                resolveSecret(reference, QStringLiteral("listen"), QStringLiteral("accessToken"));
            token = lookup.value;
            if (!lookup.error.isEmpty())
                error = lookup.error
                    + QStringLiteral("; set it first, e.g. export %1=$(understudy token --new)").arg(envName);
        } else {
            reference = QStringLiteral("keychain:") + local_token::kKeychainEntry;
            token = keychainToken(error);
            if (!error.isEmpty())
                error += QStringLiteral(". Without a keychain, keep the token in an environment variable: export "
                                        "UNDERSTUDY_TOKEN=$(understudy token --new), then understudy token --enable "
                                        "--env UNDERSTUDY_TOKEN");
        }
        if (!error.isEmpty()) {
            io.err << "understudy token: " << error << Qt::endl << "understudy token: " << path << " was not changed"
                   << Qt::endl;
            return kExitFailed;
        }
        const std::optional<QByteArray> document = readDocument(io, path);
        if (!document)
            return kExitFailed;
        const connect::Edit edit = connect::setJsonString(*document, kTokenPath, reference);
        if (const QString e = saveEdited(path, edit); !e.isEmpty()) {
            io.err << "understudy token: " << e << Qt::endl;
            return kExitFailed;
        }
        io.out << "Understudy now requires an access token: " << path << " sets \"accessToken\": \"" << reference
               << "\" in \"listen\" (a running Understudy applies it when it reloads the file). `understudy token` "
               << "prints the token." << Qt::endl;
    }
    return reconnectClients(io, *loaded.config, token);
}

int disable(Streams& io, const QString& path) {
    const ConfigResult loaded = ConfigFile::load(path, false);
    if (!loaded.config)
        return problems(io, path, loaded.problems);
    if (loaded.config->listen.accessToken.isEmpty()) {
        io.out << path << " requires no access token already." << Qt::endl;
        return 0;
    }
    const std::optional<QByteArray> document = readDocument(io, path);
    if (!document)
        return kExitFailed;
    if (const QString e = saveEdited(path, connect::removeJsonMember(*document, kTokenPath)); !e.isEmpty()) {
        io.err << "understudy token: " << e << Qt::endl;
        return kExitFailed;
    }
    io.out << "Understudy no longer requires an access token (" << path << " has no \"accessToken\" now). The token "
           << "itself stays where it was (" << loaded.config->listen.accessToken << ") and in the clients that send "
           << "it, where it does no harm: Understudy takes it out of every request. `understudy token --enable` "
           << "turns it back on with the same token." << Qt::endl;
    return 0;
}

}  // namespace

int runTokenCommand(const QStringList& arguments) {
    Streams io;
    QCommandLineParser parser;
    const QCommandLineOption enableOption(QStringLiteral("enable"), QStringLiteral("Require the access token."));
    const QCommandLineOption disableOption(QStringLiteral("disable"), QStringLiteral("Stop requiring it."));
    const QCommandLineOption newOption(QStringLiteral("new"), QStringLiteral("Print a fresh random token."));
    const QCommandLineOption envOption(QStringLiteral("env"), QStringLiteral("With --enable: the token is in this "
                                                                             "environment variable, not the keychain."),
                                       QStringLiteral("NAME"));
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Config file."),
                                          QStringLiteral("FILE"));
    parser.addOptions({enableOption, disableOption, newOption, envOption, configOption});
    if (!parser.parse(QStringList{QStringLiteral("understudy token")} + arguments)
        || !parser.positionalArguments().isEmpty()
        || parser.isSet(enableOption) + parser.isSet(disableOption) + parser.isSet(newOption) > 1
        || (parser.isSet(envOption) && !parser.isSet(enableOption))
        || (parser.isSet(newOption) && parser.isSet(configOption))) {
        if (!parser.errorText().isEmpty())
            io.err << "understudy token: " << parser.errorText() << Qt::endl;
        io.err << kUsage;
        return kExitUsage;
    }
    if (parser.isSet(newOption)) {
        io.out << local_token::generate() << Qt::endl;
        return 0;
    }
    const QString path = parser.isSet(configOption) ? parser.value(configOption) : ConfigFile::defaultPath();
    if (parser.isSet(envOption) && !isSecretReference(QStringLiteral("env:") + parser.value(envOption))) {
        io.err << "understudy token: --env takes an environment variable name (letters, digits and _), not '"
               << parser.value(envOption) << "'" << Qt::endl;
        return kExitUsage;
    }
    if (parser.isSet(enableOption))
        return enable(io, path, parser.value(envOption));
    if (parser.isSet(disableOption))
        return disable(io, path);
    return printToken(io, path);
}

}  // namespace understudy
