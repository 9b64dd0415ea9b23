// understudy: tray app, or --headless proxy, or --check-config. DESIGN.md §4 has the command-line contract.
#include "Connect.h"
#include "KeysCommand.h"
#include "TestProviderCommand.h"
#include "ProxyHost.h"
#include "SingleInstance.h"
#include "TokenCommand.h"
#include "TrayApp.h"
#include "UsageCommand.h"

#include "config/ConfigFile.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QMessageBox>
#include <QStandardPaths>
#include <QSystemTrayIcon>

#include <csignal>
#include <cstdio>
#include <memory>

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

void quitOnSignal(int) { QCoreApplication::quit(); }

// Both modes say on stderr where they listen; headless also exits when it cannot (the tray shows it instead).
void reportOnStderr(ProxyHost& host, bool exitWhenListenFails) {
    QObject::connect(&host, &ProxyHost::listening, &host, [&host](const QString& address, quint16 port) {
        std::fprintf(stderr, "understudy: listening on http://%s:%u (config %s, chain '%s')\n", qPrintable(address),
                     port, qPrintable(host.configPath()), qPrintable(host.config()->activeChain));
    });
    QObject::connect(&host, &ProxyHost::listenFailed, &host, [exitWhenListenFails](const QString& message) {
        std::fprintf(stderr, "understudy: %s\n", qPrintable(message));
        if (exitWhenListenFails)
            QCoreApplication::exit(1);
    });
}

// Returns the config's problems, already printed; none when the proxy started.
QList<ConfigProblem> start(ProxyHost& host) {
    const QList<ConfigProblem> problems = host.start();
    if (!problems.isEmpty()) {
        printProblems(host.configPath(), problems);
        std::fprintf(stderr, "understudy: fix the config (check it with: understudy --check-config %s)\n",
                     qPrintable(host.configPath()));
    }
    return problems;
}

int runHeadless(ProxyHost::Options options) {
    options.echoEvents = true;
    ProxyHost host(options);
    reportOnStderr(host, true);
    if (!start(host).isEmpty())
        return kExitConfigError;
    std::signal(SIGINT, quitOnSignal);
    std::signal(SIGTERM, quitOnSignal);
    return QCoreApplication::exec();
}

QString configProblemsText(const QString& path, const QList<ConfigProblem>& problems) {
    QStringList lines{QStringLiteral("The config file %1 has problems; fix them and start Understudy again:").arg(path)};
    for (const ConfigProblem& p : problems)
        lines.append(p.path + QStringLiteral(": ") + p.message);
    return lines.join(QLatin1Char('\n'));
}

int runTray(const ProxyHost::Options& options) {
    SingleInstance instance(options.configPath);
    if (!instance.claim()) {
        std::fprintf(stderr, "understudy: already running with %s; its status window is shown\n",
                     qPrintable(options.configPath));
        return 0;
    }
    ProxyHost host(options);
    reportOnStderr(host, false);
    if (const QList<ConfigProblem> problems = start(host); !problems.isEmpty()) {
        QMessageBox::critical(nullptr, QStringLiteral("Understudy cannot start"),
                              configProblemsText(host.configPath(), problems));
        return kExitConfigError;
    }
    TrayApp app(host, QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) + QStringLiteral("/tray.ini"));
    if (!host.startupWarning().isEmpty())
        app.tray().notify({ui::Notification::Kind::Problem, QStringLiteral("Understudy runs the last good config"),
                           host.startupWarning()});
    QObject::connect(&instance, &SingleInstance::activationRequested, &app, &TrayApp::showStatus);
    const bool tray = QSystemTrayIcon::isSystemTrayAvailable();
    // Without a tray the status window is the app: closing it quits.
    QApplication::setQuitOnLastWindowClosed(!tray);
    if (!tray) {
        std::fprintf(stderr, "understudy: no system tray on this desktop; showing the status window instead\n");
        app.showStatus();
    }
    std::signal(SIGINT, quitOnSignal);
    std::signal(SIGTERM, quitOnSignal);
    return QApplication::exec();
}

// Only the tray needs a QApplication; the other modes must run where there is no display.
bool hasDisplay() {
#if defined(Q_OS_LINUX) || defined(Q_OS_FREEBSD)
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY")
        || qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
#else
    return true;
#endif
}

std::unique_ptr<QCoreApplication> makeApplication(int& argc, char** argv, bool tray) {
    if (tray)
        return std::make_unique<QApplication>(argc, argv);
    return std::make_unique<QCoreApplication>(argc, argv);
}

}  // namespace

int main(int argc, char* argv[]) {
    QCoreApplication::setApplicationName(QStringLiteral("understudy"));
    QCoreApplication::setApplicationVersion(QStringLiteral(UNDERSTUDY_VERSION));
    if (argc > 1 && qstrcmp(argv[1], "usage") == 0) {
        QCoreApplication app(argc, argv);  // no display needed; Qt SQL loads its driver plugin through it
        return runUsageCommand(QCoreApplication::arguments().mid(2));
    }
    if (argc > 1 && qstrcmp(argv[1], "token") == 0) {
        QCoreApplication app(argc, argv);  // no display needed; QtKeychain's jobs run on its event loop
        return runTokenCommand(QCoreApplication::arguments().mid(2));
    }
    if (argc > 1 && qstrcmp(argv[1], "connect") == 0) {
        QCoreApplication app(argc, argv);  // no display needed; edits the client's settings file (the token may come from the keychain)
        return connect::runConnectCommand(QCoreApplication::arguments().mid(2));
    }
    if (argc > 1 && qstrcmp(argv[1], "keys") == 0) {
        QCoreApplication app(argc, argv);  // no display needed; QtKeychain's jobs run on its event loop
        return runKeysCommand(QCoreApplication::arguments().mid(2));
    }
    if (argc > 1 && qstrcmp(argv[1], "test-provider") == 0) {
        QCoreApplication app(argc, argv);  // no display needed; one request, then exit
        return runTestProviderCommand(QCoreApplication::arguments().mid(2));
    }
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Understudy keeps your AI coding agent working when its model cannot answer: a local proxy that fails over "
        "along a chain of models.\n\nAlso: understudy usage [--since DATE] [--by provider|model|client|day] [--csv]\n      understudy connect claude-code|codex|opencode [--undo] [--url URL] [--config FILE]"
        "\n      understudy keys set NAME | list | delete NAME"
        "\n      understudy test-provider ID [--config FILE] [--model MODEL]"
        "\n      understudy token [--config FILE] | --enable [--env NAME] | --disable | --new"));
    const QCommandLineOption help = parser.addHelpOption();
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
    if (!parser.parse(arguments)) {
        std::fprintf(stderr, "understudy: %s (see understudy --help)\n", qPrintable(parser.errorText()));
        return kExitConfigError;
    }
    bool tray = !parser.isSet(help) && !parser.isSet(version) && !parser.isSet(check) && !parser.isSet(headless);
    if (tray && !hasDisplay()) {
        // A QApplication with no display aborts; on a server the proxy is what the user came for.
        std::fprintf(stderr, "understudy: no display (DISPLAY / WAYLAND_DISPLAY unset): running headless\n");
        tray = false;
    }
    const std::unique_ptr<QCoreApplication> app = makeApplication(argc, argv, tray);
    if (parser.isSet(help))
        parser.showHelp(0);
    if (parser.isSet(version)) {
        std::printf("understudy %s\n", UNDERSTUDY_VERSION);
        return 0;
    }
    if (parser.isSet(check))
        return checkConfig(parser.value(check));

    ProxyHost::Options options;
    if (parser.isSet(portOption)) {
        bool ok = false;
        const int value = parser.value(portOption).toInt(&ok);
        if (!ok || value < 0 || value > 65535) {
            std::fprintf(stderr, "understudy: --port takes a number from 0 to 65535 (0 picks a free port), not '%s'\n",
                         qPrintable(parser.value(portOption)));
            return kExitConfigError;
        }
        options.port = value;
    }
    options.createIfMissing = !parser.isSet(configOption);
    options.configPath = parser.isSet(configOption) ? parser.value(configOption) : ConfigFile::defaultPath();
    options.eventLog = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/events.jsonl");
    options.ledger = LedgerOptions{};
    return tray ? runTray(options) : runHeadless(options);
}
