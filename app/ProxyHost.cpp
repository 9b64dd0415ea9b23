#include "ProxyHost.h"

#include <cstdio>

#include "config/ConfigFile.h"
#include "json/JsonScan.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace understudy {
namespace {

QJsonArray problemsJson(const QList<ConfigProblem>& problems) {
    QJsonArray array;
    for (const ConfigProblem& p : problems)
        array.append(QJsonObject{{QStringLiteral("path"), p.path}, {QStringLiteral("message"), p.message}});
    return array;
}

// The config document with activeChain set to `chain`. The value is replaced in place, so the user's layout,
// key order and spacing survive; a document without the key gets it added.
QByteArray withActiveChain(const QByteArray& document, const QString& chain) {
    const json::ObjectScan scan = json::scanObject(document);
    if (scan.ok && scan.find("activeChain").isValid())
        return json::replaced(document, scan.find("activeChain"), json::quoted(chain));
    QJsonObject object = QJsonDocument::fromJson(document).object();
    object.insert(QStringLiteral("activeChain"), chain);
    return QJsonDocument(object).toJson(QJsonDocument::Indented);
}

}  // namespace

ProxyHost::ProxyHost(Options options, QObject* parent) : QObject(parent), m_options(std::move(options)) {
    Proxy* proxy = m_thread.proxy();
    connect(proxy, &Proxy::listening, this, &ProxyHost::listening);
    connect(proxy, &Proxy::listenFailed, this, &ProxyHost::listenFailed);
    connect(&proxy->telemetry(), &Telemetry::eventRecorded, this, &ProxyHost::eventRecorded);
    QMetaObject::invokeMethod(proxy, [proxy, log = m_options.eventLog, echo = m_options.echoEvents] {
        proxy->telemetry().setLogFile(log);
        proxy->telemetry().setEchoToStderr(echo);
    });
}

QList<ConfigProblem> ProxyHost::start() {
    ConfigFile::Startup startup = ConfigFile::loadForStartup(m_options.configPath, m_options.createIfMissing);
    ConfigResult& loaded = startup.result;
    if (!loaded.config)
        return loaded.problems;
    startLedger(loaded.config->ledger);
    if (!startup.usedLastGood.isEmpty())
        reportLastGood(startup);
    m_watcher = std::make_unique<ConfigWatcher>(m_options.configPath);
    connect(m_watcher.get(), &ConfigWatcher::reloaded, this, [this](std::shared_ptr<const Config> next) {
        applyWithKeychain(std::move(next), [this] {
            recordConfigEvent({{QStringLiteral("ok"), true}, {QStringLiteral("path"), m_options.configPath},
                               {QStringLiteral("activeChain"), m_config->activeChain}});
        });
    });
    connect(m_watcher.get(), &ConfigWatcher::rejected, this, &ProxyHost::reject);
    applyWithKeychain(std::make_shared<const Config>(std::move(*loaded.config)));
    return {};
}

void ProxyHost::applyWithKeychain(std::shared_ptr<const Config> config, std::function<void()> applied) {
    const QStringList entries = keychainEntriesOf(*config);
    const int read = ++m_keychainReads;
    if (entries.isEmpty()) {
        apply(std::move(config));
        if (applied)
            applied();
        return;
    }
    m_keychain.readAll(entries, [this, read, config, applied](KeychainValues values) {
        if (read != m_keychainReads)
            return;
        const QStringList problems = keychainProblems(*config, values);
        auto withValues = std::make_shared<Config>(*config);
        withValues->keychain = std::make_shared<const KeychainValues>(std::move(values));
        apply(std::move(withValues));
        if (applied)
            applied();
        // Steps whose key could not be read fail over at request time with the same message; saying so now
        // lets the user fix it before a request needs it.
        if (!problems.isEmpty())
            recordConfigEvent({{QStringLiteral("ok"), true}, {QStringLiteral("path"), m_options.configPath},
                               {QStringLiteral("keychain"), QJsonArray::fromStringList(problems)}});
    });
}

// Started once the config is known: the prune it runs when it opens must use the configured retention.
void ProxyHost::startLedger(const LedgerConfig& config) {
    if (!m_options.ledger)
        return;
    LedgerOptions options = *m_options.ledger;
    options.retentionDays = config.retentionDays;
    m_ledger = std::make_unique<LedgerThread>(options);
    Proxy* proxy = m_thread.proxy();
    LedgerWriter* writer = m_ledger->writer();
    connect(&proxy->telemetry(), &Telemetry::usageBatch, writer, &LedgerWriter::recordBatch, Qt::QueuedConnection);
    connect(writer, &LedgerWriter::snapshotReady, proxy, &Proxy::setUsageSnapshot, Qt::QueuedConnection);
    connect(writer, &LedgerWriter::snapshotReady, this, &ProxyHost::usageSnapshot);
    connect(writer, &LedgerWriter::failed, this, &ProxyHost::usageFailed);
    connect(writer, &LedgerWriter::failed, this,
            [](const QString& message) { std::fprintf(stderr, "understudy: %s\n", qPrintable(message)); });
}

// The app runs, but not with the file the user wrote: say so where they will see it, naming both files.
void ProxyHost::reportLastGood(const ConfigFile::Startup& startup) {
    QStringList lines{QStringLiteral("%1 has problems, so Understudy started with the last good config, %2. Fix "
                                     "the file (check it with: understudy --check-config %1); it is reloaded when saved.")
                          .arg(m_options.configPath, startup.usedLastGood)};
    for (const ConfigProblem& p : startup.fileProblems)
        lines.append(p.path + QStringLiteral(": ") + p.message);
    m_startupWarning = lines.join(QLatin1Char('\n'));
    for (const QString& line : std::as_const(lines))
        std::fprintf(stderr, "understudy: %s\n", qPrintable(line));
    recordConfigEvent({{QStringLiteral("ok"), false}, {QStringLiteral("path"), m_options.configPath},
                       {QStringLiteral("problems"), problemsJson(startup.fileProblems)},
                       {QStringLiteral("kept"), QStringLiteral("started with the last good config %1").arg(startup.usedLastGood)}});
}

void ProxyHost::apply(std::shared_ptr<const Config> config) {
    if (m_options.port && config->listen.port != *m_options.port) {
        auto adjusted = std::make_shared<Config>(*config);
        adjusted->listen.port = *m_options.port;
        config = std::move(adjusted);
    }
    m_config = config;
    if (m_ledger) {
        m_ledger->setPriceOverrides(config->pricing);
        m_ledger->setRetentionDays(config->ledger.retentionDays);
    }
    m_thread.applyConfig(config);
    Q_EMIT configApplied(std::move(config));
}

void ProxyHost::reject(const QList<ConfigProblem>& problems) {
    recordConfigEvent({{QStringLiteral("ok"), false}, {QStringLiteral("path"), m_options.configPath},
                       {QStringLiteral("problems"), problemsJson(problems)},
                       {QStringLiteral("kept"), QStringLiteral("the previous config stays in force")}});
    Q_EMIT configRejected(problems);
}

void ProxyHost::recordConfigEvent(EventFields fields) {
    Proxy* proxy = m_thread.proxy();
    QMetaObject::invokeMethod(proxy, [proxy, fields = std::move(fields)]() mutable {
        proxy->telemetry().record({QStringLiteral("config"), 0, std::move(fields)});
    });
}

QString ProxyHost::pickChain(const QString& chain) {
    QFile file(m_options.configPath);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("cannot read %1: %2").arg(m_options.configPath, file.errorString());
    const QString error = ConfigFile::save(m_options.configPath, withActiveChain(file.readAll(), chain));
    if (error.isEmpty())
        m_watcher->reload();
    return error;
}

void ProxyHost::reloadConfig() {
    if (m_watcher)
        m_watcher->reload();
}

void ProxyHost::setPaused(bool paused) {
    Proxy* proxy = m_thread.proxy();
    QMetaObject::invokeMethod(proxy, [proxy, paused] { proxy->setPaused(paused); });
}

void ProxyHost::retryNow(const QString& target) {
    Proxy* proxy = m_thread.proxy();
    QMetaObject::invokeMethod(proxy, [proxy, target] { proxy->retryNow(target); });
}

}  // namespace understudy
