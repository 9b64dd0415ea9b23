#include "KeysCommand.h"

#include "config/Keychain.h"

#include <QEventLoop>
#include <QFile>

#include <cstdio>
#include <functional>

#if defined(Q_OS_UNIX)
#include <termios.h>
#include <unistd.h>
#elif defined(Q_OS_WIN)
#include <windows.h>
#endif

namespace understudy {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// QtKeychain cannot list a service's entries, so the names (never the values) are kept in an entry of their
// own, one name a line. Its name starts with a dot, which `keys set` refuses.
const QString kIndexEntry = QStringLiteral(".index");

const char* const kUsage = "usage: understudy keys set NAME   (the secret is read from stdin)\n"
                           "       understudy keys list\n"
                           "       understudy keys delete NAME\n";

int fail(int code, const QString& message) {
    std::fprintf(stderr, "understudy keys: %s\n", qPrintable(message));
    return code;
}

// Runs one keychain call to its end; the command line has nothing else to do meanwhile.
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

QString nameProblem(const QString& name) {
    if (name.startsWith(QLatin1Char('.')))
        return QStringLiteral("a name cannot start with '.' (those are Understudy's own entries)");
    if (name != name.trimmed())
        return QStringLiteral("a name cannot start or end with a space");
    if (!isSecretReference(QStringLiteral("keychain:") + name))
        return QStringLiteral("'%1' is not a usable name: use letters, digits, '-' or '_', e.g. zai").arg(name);
    return {};
}

// Echo off while the user types or pastes the secret; restored however the read ends.
class HiddenInput {
public:
    HiddenInput() {
#if defined(Q_OS_UNIX)
        m_active = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &m_saved) == 0;
        if (m_active) {
            termios quiet = m_saved;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
#elif defined(Q_OS_WIN)
        m_input = GetStdHandle(STD_INPUT_HANDLE);
        m_active = GetConsoleMode(m_input, &m_saved) != 0;
        if (m_active)
            SetConsoleMode(m_input, m_saved & ~static_cast<DWORD>(ENABLE_ECHO_INPUT));
#endif
    }
    ~HiddenInput() {
        if (!m_active)
            return;
#if defined(Q_OS_UNIX)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &m_saved);
#elif defined(Q_OS_WIN)
        SetConsoleMode(m_input, m_saved);
#endif
        std::fputc('\n', stderr);  // the user's Enter was not echoed either
    }
    bool isTerminal() const { return m_active; }

private:
    bool m_active = false;
#if defined(Q_OS_UNIX)
    termios m_saved{};
#elif defined(Q_OS_WIN)
    HANDLE m_input = nullptr;
    DWORD m_saved = 0;
#endif
};

// A terminal gives one line; a pipe or file gives everything (a service-account JSON spans lines). Trailing
// line ends are not part of the secret: `echo KEY |` and editors add one.
QByteArray readSecret(const QString& name) {
    QByteArray secret;
    {
        HiddenInput hidden;
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly))
            return {};
        if (hidden.isTerminal()) {
            std::fprintf(stderr, "Secret for keychain entry '%s' (not shown as you type): ", qPrintable(name));
            std::fflush(stderr);
            secret = in.readLine();
        } else {
            secret = in.readAll();
        }
    }
    while (secret.endsWith('\n') || secret.endsWith('\r'))
        secret.chop(1);
    return secret;
}

QStringList readIndex(Keychain& keychain, QString* error) {
    const Keychain::Reply reply = await([&](Keychain::Callback done) { keychain.read(kIndexEntry, done); });
    if (reply.status == Keychain::Reply::Status::Missing)
        return {};
    if (reply.status != Keychain::Reply::Status::Ok) {
        *error = Keychain::describe(reply, kIndexEntry);
        return {};
    }
    return QString::fromUtf8(reply.value).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

QString writeIndex(Keychain& keychain, QStringList names) {
    names.sort();
    names.removeDuplicates();
    const Keychain::Reply reply = await([&](Keychain::Callback done) {
        if (names.isEmpty())
            keychain.remove(kIndexEntry, done);
        else
            keychain.write(kIndexEntry, names.join(QLatin1Char('\n')).toUtf8(), done);
    });
    const bool ok = reply.status == Keychain::Reply::Status::Ok
        || (names.isEmpty() && reply.status == Keychain::Reply::Status::Missing);
    return ok ? QString() : Keychain::describe(reply, kIndexEntry);
}

int setKey(Keychain& keychain, const QString& name) {
    QString error;  // a keychain that cannot be reached says so before the user types the secret
    const QStringList names = readIndex(keychain, &error);
    if (!error.isEmpty())
        return fail(kExitFailed, error);
    const QByteArray secret = readSecret(name);
    if (secret.isEmpty())
        return fail(kExitUsage, QStringLiteral("no secret given for '%1': pipe it in, e.g. "
                                               "understudy keys set %1 < key.txt, or type it when asked")
                                    .arg(name));
    const Keychain::Reply stored = await([&](Keychain::Callback done) { keychain.write(name, secret, done); });
    if (stored.status != Keychain::Reply::Status::Ok)
        return fail(kExitFailed, Keychain::describe(stored, name));
    if (const QString indexError = writeIndex(keychain, names + QStringList{name}); !indexError.isEmpty())
        return fail(kExitFailed, QStringLiteral("stored '%1', but could not add it to the list of names: %2")
                                     .arg(name, indexError));
    std::printf("Stored '%s' in the OS keychain (service '%s'). Refer to it in the config as \"keychain:%s\"; a "
                "running Understudy reads it when it next loads its config.\n",
                qPrintable(name), qPrintable(Keychain::kService), qPrintable(name));
    return 0;
}

int listKeys(Keychain& keychain) {
    QString error;
    const QStringList names = readIndex(keychain, &error);
    if (!error.isEmpty())
        return fail(kExitFailed, error);
    if (names.isEmpty())
        std::fprintf(stderr, "understudy keys: no keys stored yet (add one with: understudy keys set NAME)\n");
    for (const QString& name : names)
        std::printf("%s\n", qPrintable(name));
    return 0;
}

int deleteKey(Keychain& keychain, const QString& name) {
    QString error;
    QStringList names = readIndex(keychain, &error);
    if (!error.isEmpty())
        return fail(kExitFailed, error);
    // The Secret Service reports deleting an entry that is not there as a success, so look first.
    const Keychain::Reply existing = await([&](Keychain::Callback done) { keychain.read(name, done); });
    if (existing.status == Keychain::Reply::Status::Ok) {
        const Keychain::Reply removed = await([&](Keychain::Callback done) { keychain.remove(name, done); });
        if (removed.status != Keychain::Reply::Status::Ok)
            return fail(kExitFailed, Keychain::describe(removed, name));
    } else if (existing.status != Keychain::Reply::Status::Missing) {
        return fail(kExitFailed, Keychain::describe(existing, name));
    }
    // A name whose entry was removed by other means leaves the list as well.
    if (names.removeAll(name) > 0) {
        if (const QString indexError = writeIndex(keychain, names); !indexError.isEmpty())
            return fail(kExitFailed, indexError);
    }
    if (existing.status == Keychain::Reply::Status::Missing)
        return fail(kExitFailed, Keychain::describe(existing, name));
    std::printf("Deleted '%s' from the OS keychain.\n", qPrintable(name));
    return 0;
}

}  // namespace

int runKeysCommand(const QStringList& arguments) {
    const QString action = arguments.value(0);
    const bool named = action == QLatin1String("set") || action == QLatin1String("delete");
    if (!named && action != QLatin1String("list")) {
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    if (arguments.size() != (named ? 2 : 1)) {
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    const QString name = arguments.value(1);
    if (named) {
        if (const QString problem = nameProblem(name); !problem.isEmpty())
            return fail(kExitUsage, problem);
    }
    Keychain keychain;
    if (action == QLatin1String("set"))
        return setKey(keychain, name);
    if (action == QLatin1String("delete"))
        return deleteKey(keychain, name);
    return listKeys(keychain);
}

}  // namespace understudy
