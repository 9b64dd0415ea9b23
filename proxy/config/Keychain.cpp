#include "config/Keychain.h"

#include "config/Config.h"

#include <QTimer>

#if UNDERSTUDY_HAS_QTKEYCHAIN
#include <qt6keychain/keychain.h>
#endif

#include <memory>

namespace understudy {

const QString Keychain::kService = QStringLiteral("understudy");
const QString Keychain::kIndexEntry = QStringLiteral(".index");

namespace {

#if UNDERSTUDY_HAS_QTKEYCHAIN
Keychain::Reply replyOf(const QKeychain::Job& job) {
    using Status = Keychain::Reply::Status;
    switch (job.error()) {
    case QKeychain::NoError:
        return {Status::Ok, {}, {}};
    case QKeychain::EntryNotFound:
        return {Status::Missing, {}, {}};
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        return {Status::Failed, {}, job.errorString()};
    default:
        // QtKeychain 0.13 reports a missing or locked Secret Service as OtherError with D-Bus's words
        // ("Cannot autolaunch D-Bus without X11 $DISPLAY", "...was not provided by any .service files").
        return {Status::Unreachable, {}, job.errorString()};
    }
}

// Runs `job`; `done` gets its reply, or Unreachable when the keychain has not answered within the timeout
// (the job is then abandoned: its late answer is ignored).
void run(QObject* owner, int timeoutMs, QKeychain::Job* job, const QString& name, Keychain::Callback done) {
    auto pending = std::make_shared<Keychain::Callback>(std::move(done));
    const auto settle = [pending](Keychain::Reply reply) {
        if (!*pending)
            return;
        const Keychain::Callback callback = std::exchange(*pending, nullptr);
        callback(std::move(reply));
    };
    QObject::connect(job, &QKeychain::Job::finished, owner, [settle](QKeychain::Job* finished) {
        Keychain::Reply reply = replyOf(*finished);
        if (reply.status == Keychain::Reply::Status::Ok)
            if (auto* read = qobject_cast<QKeychain::ReadPasswordJob*>(finished))
                reply.value = read->binaryData();
        settle(std::move(reply));
    });
    QTimer::singleShot(timeoutMs, owner, [settle, timeoutMs] {
        settle({Keychain::Reply::Status::Unreachable, {},
                QStringLiteral("the keychain did not answer within %1 s").arg(timeoutMs / 1000)});
    });
    job->setAutoDelete(true);
    job->setKey(name);
    job->start();
}

#else
// Settles `done` with the reason, later, as a real keychain call would.
void unavailable(QObject* owner, Keychain::Callback done) {
    QTimer::singleShot(0, owner, [done = std::move(done)] {
        done({Keychain::Reply::Status::Unreachable, {},
              QStringLiteral("this build of Understudy has no OS keychain support: QtKeychain was not found when it "
                             "was built")});
    });
}
#endif

// Every secret reference a provider holds, with the config key that holds it.
QList<std::pair<QString, QString>> secretReferencesOf(const ProviderConfig& p) {
    return {{QStringLiteral("apiKey"), p.apiKey},
            {QStringLiteral("accessKeyId"), p.accessKeyId},
            {QStringLiteral("secretAccessKey"), p.secretAccessKey},
            {QStringLiteral("sessionToken"), p.sessionToken},
            {QStringLiteral("serviceAccount"), p.serviceAccount}};
}

}  // namespace

Keychain::Keychain(int timeoutMs, QObject* parent) : QObject(parent), m_timeoutMs(timeoutMs) {}

#if UNDERSTUDY_HAS_QTKEYCHAIN
void Keychain::read(const QString& name, Callback done) {
    run(this, m_timeoutMs, new QKeychain::ReadPasswordJob(kService, this), name, std::move(done));
}

void Keychain::write(const QString& name, const QByteArray& value, Callback done) {
    auto* job = new QKeychain::WritePasswordJob(kService, this);
    job->setBinaryData(value);
    run(this, m_timeoutMs, job, name, std::move(done));
}

void Keychain::remove(const QString& name, Callback done) {
    run(this, m_timeoutMs, new QKeychain::DeletePasswordJob(kService, this), name, std::move(done));
}

#else
void Keychain::read(const QString&, Callback done) { unavailable(this, std::move(done)); }
void Keychain::write(const QString&, const QByteArray&, Callback done) { unavailable(this, std::move(done)); }
void Keychain::remove(const QString&, Callback done) { unavailable(this, std::move(done)); }
#endif

void Keychain::readAll(const QStringList& names, std::function<void(KeychainValues)> done) {
    readNext(names, {}, std::move(done));
}

void Keychain::readNext(QStringList names, KeychainValues values, std::function<void(KeychainValues)> done) {
    if (names.isEmpty()) {
        done(std::move(values));
        return;
    }
    const QString name = names.takeFirst();
    read(name, [this, name, names, values = std::move(values), done = std::move(done)](Reply reply) mutable {
        using Failure = KeychainValues::Failure;
        switch (reply.status) {
        case Reply::Status::Ok:
            values.values.insert(name, reply.value);
            break;
        case Reply::Status::Missing:
            values.unread.insert(name, {Failure::Missing, {}});
            break;
        case Reply::Status::Failed:
            values.unread.insert(name, {Failure::Refused, reply.detail});
            break;
        case Reply::Status::Unreachable:
            names.prepend(name);
            for (const QString& unreached : std::as_const(names))
                values.unread.insert(unreached, {Failure::Unreachable, reply.detail});
            names.clear();
            break;
        }
        readNext(std::move(names), std::move(values), std::move(done));
    });
}

QString Keychain::nameProblem(const QString& name) {
    if (name.startsWith(QLatin1Char('.')))
        return QStringLiteral("a name cannot start with '.' (those are Understudy's own entries)");
    if (name != name.trimmed())
        return QStringLiteral("a name cannot start or end with a space");
    if (!isSecretReference(QStringLiteral("keychain:") + name))
        return QStringLiteral("'%1' is not a usable name: use letters, digits, '-' or '_', e.g. zai").arg(name);
    return {};
}

// The index holds one name a line (names have no control characters). No index yet means no keys yet.
void Keychain::listKeys(std::function<void(Reply, QStringList)> done) {
    read(kIndexEntry, [done = std::move(done)](Reply reply) {
        if (reply.status == Reply::Status::Missing)
            return done({}, {});
        const QStringList names = reply.status == Reply::Status::Ok
            ? QString::fromUtf8(reply.value).split(QLatin1Char('\n'), Qt::SkipEmptyParts)
            : QStringList();
        reply.value.clear();
        done(std::move(reply), names);
    });
}

void Keychain::writeIndex(QStringList names, Callback done) {
    names.sort();
    names.removeDuplicates();
    if (!names.isEmpty()) {
        write(kIndexEntry, names.join(QLatin1Char('\n')).toUtf8(), std::move(done));
        return;
    }
    remove(kIndexEntry, [done = std::move(done)](Reply reply) {
        done(reply.status == Reply::Status::Missing ? Reply{} : std::move(reply));
    });
}

void Keychain::storeKey(const QString& name, const QByteArray& value, Callback done) {
    listKeys([this, name, value, done = std::move(done)](Reply listed, QStringList names) mutable {
        if (listed.status != Reply::Status::Ok)
            return done(std::move(listed));
        write(name, value, [this, name, names, done = std::move(done)](Reply stored) mutable {
            if (stored.status != Reply::Status::Ok)
                return done(std::move(stored));
            writeIndex(names << name, std::move(done));
        });
    });
}

void Keychain::deleteKey(const QString& name, Callback done) {
    listKeys([this, name, done = std::move(done)](Reply listed, QStringList names) mutable {
        if (listed.status != Reply::Status::Ok)
            return done(std::move(listed));
        // The Secret Service reports deleting an entry that is not there as a success, so look first.
        read(name, [this, name, names, done = std::move(done)](Reply existing) mutable {
            existing.value.clear();
            auto unlist = [this, name, names, existing, done]() mutable {
                // A name whose entry went by other means leaves the list as well.
                if (names.removeAll(name) == 0)
                    return done(std::move(existing));
                writeIndex(names, [existing, done](Reply indexed) {
                    done(indexed.status == Reply::Status::Ok ? existing : std::move(indexed));
                });
            };
            if (existing.status == Reply::Status::Missing)
                return unlist();
            if (existing.status != Reply::Status::Ok)
                return done(std::move(existing));
            remove(name, [unlist, done](Reply removed) mutable {
                if (removed.status != Reply::Status::Ok)
                    return done(std::move(removed));
                unlist();
            });
        });
    });
}

QString Keychain::describe(const Reply& reply, const QString& name) {
    switch (reply.status) {
    case Reply::Status::Ok:
        return {};
    case Reply::Status::Missing:
        return QStringLiteral("keychain entry '%1' does not exist").arg(name);
    case Reply::Status::Failed:
        return QStringLiteral("the OS keychain refused access to entry '%1' (%2)").arg(name, reply.detail);
    case Reply::Status::Unreachable:
        break;
    }
    return QStringLiteral("no OS keychain is reachable (%1). On a machine without one (a server, CI, a container), "
                          "put the key in an environment variable and refer to it as \"env:NAME\" in the config "
                          "instead; Understudy never stores keys in plain text")
        .arg(reply.detail);
}

QStringList keychainEntriesOf(const Config& config) {
    QStringList names;
    if (const QString token = keychainEntryOf(config.listen.accessToken); !token.isEmpty())
        names.append(token);
    for (const ProviderConfig& p : config.providers) {
        for (const auto& [field, reference] : secretReferencesOf(p)) {
            if (const QString name = keychainEntryOf(reference); !name.isEmpty())
                names.append(name);
        }
    }
    names.sort();
    names.removeDuplicates();
    return names;
}

QStringList keychainProblems(const Config& config, const KeychainValues& values) {
    QStringList problems;
    for (const ProviderConfig& p : config.providers) {
        for (const auto& [field, reference] : secretReferencesOf(p)) {
            if (keychainEntryOf(reference).isEmpty())
                continue;
            if (const SecretLookup lookup = resolveSecret(reference, QStringLiteral("provider '%1'").arg(p.id), field,
                                                          &values);
                !lookup.error.isEmpty())
                problems.append(lookup.error);
        }
    }
    return problems;
}

}  // namespace understudy
