#pragma once

#include "config/Secrets.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace understudy {

// The OS keychain through QtKeychain: macOS Keychain, Windows Credential Manager, the Secret Service on Linux
// (GNOME Keyring, KWallet). Entries live under the service "understudy", one per name. Every call is
// asynchronous (its callback runs later on this thread's event loop) and bounded by a timeout, because a
// keychain can hang: a Secret Service that is being auto-started may wait forever on an unlock dialog.
// There is no plain-text fallback: when no keychain answers, the call says so.
class Keychain : public QObject {
public:
    static constexpr int kDefaultTimeoutMs = 15000;
    static const QString kService;

    struct Reply {
        enum class Status { Ok, Missing, Unreachable, Failed };
        Status status = Status::Ok;
        QByteArray value;  // read: the secret. Never print it.
        QString detail;    // Unreachable / Failed: the keychain's own words, e.g. "Cannot autolaunch D-Bus..."
    };
    using Callback = std::function<void(Reply)>;

    explicit Keychain(int timeoutMs = kDefaultTimeoutMs, QObject* parent = nullptr);

    void read(const QString& name, Callback done);
    void write(const QString& name, const QByteArray& value, Callback done);
    void remove(const QString& name, Callback done);

    // Reads every entry of `names` (one after another; once the keychain proved unreachable the rest are not
    // tried, so a dead keychain costs one timeout, not one per entry).
    void readAll(const QStringList& names, std::function<void(KeychainValues)> done);

    // Named keys as `understudy keys` and the settings dialog manage them. QtKeychain cannot enumerate a
    // service's entries, so the names (never the values) are also kept in an index entry of their own, kIndexEntry.
    static const QString kIndexEntry;
    // Why `name` cannot name a key (empty when it can): blank, control characters, or reserved (a leading '.').
    static QString nameProblem(const QString& name);
    void storeKey(const QString& name, const QByteArray& value, Callback done);
    void deleteKey(const QString& name, Callback done);  // Missing when there was no such key
    void listKeys(std::function<void(Reply, QStringList)> done);

    // A message for a reply that is not Ok, about entry `name`, telling the user what to do.
    static QString describe(const Reply& reply, const QString& name);

private:
    void readNext(QStringList names, KeychainValues values, std::function<void(KeychainValues)> done);
    void writeIndex(QStringList names, Callback done);

    int m_timeoutMs;
};

struct Config;
// The keychain entries a config's secret references name ("keychain:NAME"), each once, sorted.
QStringList keychainEntriesOf(const Config& config);
// What resolving each of the config's keychain references against `values` would say, for those that fail.
QStringList keychainProblems(const Config& config, const KeychainValues& values);

}  // namespace understudy
