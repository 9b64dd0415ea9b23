// understudy: tray app, or --headless proxy, or --check-config. DESIGN.md §4 has the command-line contract.
#include "ConfigWatcher.h"

#include "Proxy.h"
#include "config/ConfigFile.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QStandardPaths>

#include <csignal>
#include <cstdio>

using namespace understudy;

namespace {

constexpr int kExitConfigError = 2;

void printProblems(const QString& file, const QList<ConfigProblem>& problems) {
    for (const ConfigProblem& p : problems)
        std::fprintf(stderr, "%s: %s: %s\n", qPrintable(file), qPrintable(p.path), qPrintable(p.message));
}

int checkConfig(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "%s: cannot read: %s\n", qPrintable(path), qPrintable(file.errorString()));
        return kExitConfigError;
    }
    const ConfigResult result = parseConfig(file.readAll());
    for (const ConfigProblem& w : result.warnings)
        std::fprintf(stderr, "%s: warning: %s: %s\n", qPrintable(path), qPrintable(w.path), qPrintable(w.message));
    if (!result.config) {
        printProblems(path, result.problems);
        std::fprintf(stderr, "%s: %lld problem(s)\n", qPrintable(path),
                     static_cast<long long>(result.problems.size()));
        return kExitConfigError;
    }
    std::printf("%s: OK (%lld provider(s), %lld chain(s), active chain '%s')\n", qPrintable(path),
                static_cast<long long>(result.config->providers.size()),
                static_cast<long long>(result.config->chains.size()), qPrintable(result.config->activeChain));
    return 0;
}

QJsonArray problemsJson(const QList<ConfigProblem>& problems) {
    QJsonArray array;
    for (const ConfigProblem& p : problems)
        array.append(QJsonObject{{QStringLiteral("path"), p.path}, {QStringLiteral("message"), p.message}});
    return array;
}

void recordOnProxyThread(Proxy* proxy, ProxyEvent event) {
    QMetaObject::invokeMethod(proxy, [proxy, event = std::move(event)]() mutable {
        proxy->telemetry().record(std::move(event));
    });
}

void quitOnSignal(int) { QCoreApplication::quit(); }

int runHeadless(const QString& configPath, bool explicitConfig, std::optional<int> port) {
    ConfigResult loaded = ConfigFile::load(configPath, !explicitConfig);
    if (!loaded.config) {
        printProblems(configPath, loaded.problems);
        std::fprintf(stderr, "understudy: fix the config (check it with: understudy --check-config %s)\n",
                     qPrintable(configPath));
        return kExitConfigError;
    }
    if (port)
        loaded.config->listen.port = *port;
    auto config = std::make_shared<const Config>(std::move(*loaded.config));

    ProxyThread proxyThread;
    Proxy* proxy = proxyThread.proxy();
    const QString eventLog =
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/events.jsonl");
    QMetaObject::invokeMethod(proxy, [proxy, eventLog] {
        proxy->telemetry().setLogFile(eventLog);
        proxy->telemetry().setEchoToStderr(true);
    });
    int exitCode = 0;
    QObject::connect(proxy, &Proxy::listening, qApp, [&](const QString& host, quint16 boundPort) {
        std::fprintf(stderr, "understudy: listening on http://%s:%u (config %s, chain '%s')\n", qPrintable(host),
                     boundPort, qPrintable(configPath), qPrintable(config->activeChain));
    });
    QObject::connect(proxy, &Proxy::listenFailed, qApp, [&](const QString& message) {
        std::fprintf(stderr, "understudy: %s\n", qPrintable(message));
        exitCode = 1;
        QCoreApplication::exit(1);
    });

    ConfigWatcher watcher(configPath);
    QObject::connect(&watcher, &ConfigWatcher::reloaded, qApp, [&, port](std::shared_ptr<const Config> next) {
        if (port) {
            auto adjusted = std::make_shared<Config>(*next);
            adjusted->listen.port = *port;
            next = std::move(adjusted);
        }
        proxyThread.applyConfig(next);
        recordOnProxyThread(proxy, {QStringLiteral("config"), 0,
                                    {{QStringLiteral("ok"), true}, {QStringLiteral("path"), configPath},
                                     {QStringLiteral("activeChain"), next->activeChain}}});
    });
    QObject::connect(&watcher, &ConfigWatcher::rejected, qApp, [&](const QList<ConfigProblem>& problems) {
        recordOnProxyThread(proxy, {QStringLiteral("config"), 0,
                                    {{QStringLiteral("ok"), false}, {QStringLiteral("path"), configPath},
                                     {QStringLiteral("problems"), problemsJson(problems)},
                                     {QStringLiteral("kept"), QStringLiteral("the previous config stays in force")}}});
    });

    proxyThread.applyConfig(config);
    std::signal(SIGINT, quitOnSignal);
    std::signal(SIGTERM, quitOnSignal);
    const int code = QCoreApplication::exec();
    return exitCode ? exitCode : code;
}

}  // namespace

int main(int argc, char* argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("understudy"));
    QCoreApplication::setApplicationVersion(QStringLiteral(UNDERSTUDY_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Understudy keeps your AI coding agent working when its model cannot answer: a local proxy that fails over "
        "along a chain of models."));
    parser.addHelpOption();
    const QCommandLineOption version(QStringLiteral("version"), QStringLiteral("Print the version and exit."));
    const QCommandLineOption headless(QStringLiteral("headless"), QStringLiteral("Run the proxy without the tray."));
    const QCommandLineOption configOption(QStringLiteral("config"),
                                          QStringLiteral("Config file (default: %1).").arg(ConfigFile::defaultPath()),
                                          QStringLiteral("FILE"));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("Listen port, overriding the config."),
                                        QStringLiteral("N"));
    const QCommandLineOption check(QStringLiteral("check-config"),
                                   QStringLiteral("Validate FILE, list every problem, exit 0 or 2."), QStringLiteral("FILE"));
    parser.addOptions({version, headless, configOption, portOption, check});
    if (!parser.parse(app.arguments())) {
        std::fprintf(stderr, "understudy: %s (see understudy --help)\n", qPrintable(parser.errorText()));
        return kExitConfigError;
    }
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(version)) {
        std::printf("understudy %s\n", UNDERSTUDY_VERSION);
        return 0;
    }
    if (parser.isSet(check))
        return checkConfig(parser.value(check));

    std::optional<int> port;
    if (parser.isSet(portOption)) {
        bool ok = false;
        const int value = parser.value(portOption).toInt(&ok);
        if (!ok || value < 0 || value > 65535) {
            std::fprintf(stderr, "understudy: --port takes a number from 0 to 65535 (0 picks a free port), not '%s'\n",
                         qPrintable(parser.value(portOption)));
            return kExitConfigError;
        }
        port = value;
    }
    const bool explicitConfig = parser.isSet(configOption);
    const QString configPath = explicitConfig ? parser.value(configOption) : ConfigFile::defaultPath();
    if (!parser.isSet(headless))
        std::fprintf(stderr, "understudy: the tray is not part of this build yet; running headless.\n");
    return runHeadless(configPath, explicitConfig, port);
}
