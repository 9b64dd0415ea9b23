#pragma once

#include "ConfigWatcher.h"

#include "Proxy.h"
#include "config/Keychain.h"
#include "config/ConfigFile.h"
#include "telemetry/Ledger.h"

#include <QObject>

#include <memory>
#include <optional>

namespace understudy {

// The proxy as both modes run it (tray and --headless): the config file and its watcher, the proxy on its
// worker thread, and the event log. The UI talks to the proxy only through this, with queued calls.
class ProxyHost : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString configPath;
        bool createIfMissing = false;  // the default config is written on first run; an explicit --config must exist
        std::optional<int> port;       // --port: overrides listen.port, across reloads too
        bool echoEvents = false;       // headless: events on stderr as well as in the log file
        QString eventLog;              // JSON-lines event log; empty: none
        std::optional<LedgerOptions> ledger;  // the usage ledger; none: requests are not recorded
    };

    explicit ProxyHost(Options options, QObject* parent = nullptr);

    // Loads the config and starts the proxy (it then emits listening or listenFailed). Returns the config's
    // problems when it does not validate; nothing is started then.
    QList<ConfigProblem> start();

    const QString& configPath() const { return m_options.configPath; }
    std::shared_ptr<const Config> config() const { return m_config; }
    // Set when the config file was invalid at start and its last good copy runs instead: what to tell the user.
    const QString& startupWarning() const { return m_startupWarning; }

    // Saves `chain` as activeChain in the config file and applies it at once. Returns why it could not, or "".
    QString pickChain(const QString& chain);
    void setPaused(bool paused);
    void retryNow(const QString& target);
    // Applies the config file now, after the app saved it itself (the watcher would, after its debounce).
    void reloadConfig();

Q_SIGNALS:
    // The proxy's reports, relayed on this (the GUI) thread. They are connected before start(), so none is
    // lost to a receiver that connects later.
    void listening(const QString& host, quint16 port);
    void listenFailed(const QString& message);
    void eventRecorded(const understudy::ProxyEvent& event);
    void configApplied(std::shared_ptr<const understudy::Config> config);
    void configRejected(const QList<understudy::ConfigProblem>& problems);
    void usageSnapshot(const understudy::UsageSnapshot& snapshot);
    void usageFailed(const QString& message);  // the ledger could not open or write

private:
    // Reads the keychain entries `config` refers to, then applies it and calls `applied`. The keychain answers
    // asynchronously, so this happens here, off the request path, and the proxy only ever sees the values read.
    void applyWithKeychain(std::shared_ptr<const Config> config, std::function<void()> applied = {});
    void startLedger(const LedgerConfig& config);
    void apply(std::shared_ptr<const Config> config);
    void reject(const QList<ConfigProblem>& problems);
    void recordConfigEvent(EventFields fields);
    void reportLastGood(const ConfigFile::Startup& startup);

    Options m_options;
    std::unique_ptr<LedgerThread> m_ledger;  // declared before the proxy: destroyed after it, so its last records are written
    ProxyThread m_thread;
    std::unique_ptr<ConfigWatcher> m_watcher;  // watches from start(), once the file surely exists
    std::shared_ptr<const Config> m_config;
    Keychain m_keychain;
    int m_keychainReads = 0;  // a read finishing after a newer config started its own is stale
    QString m_startupWarning;
};

}  // namespace understudy
