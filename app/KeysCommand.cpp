#include "KeysCommand.h"

#include "LocalToken.h"
#include "config/Keychain.h"

#include <QFile>

#include <cstdio>

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

const char* const kUsage = "usage: understudy keys set NAME   (the secret is read from stdin)\n"
                           "       understudy keys list\n"
                           "       understudy keys delete NAME\n";

int fail(int code, const QString& message) {
    std::fprintf(stderr, "understudy keys: %s\n", qPrintable(message));
    return code;
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

int setKey(Keychain& keychain, const QString& name) {
    // A keychain that cannot be reached says so before the user types the secret.
    QStringList names;
    const Keychain::Reply listed = local_token::await([&](Keychain::Callback done) {
        keychain.listKeys([&names, done](Keychain::Reply reply, QStringList found) {
            names = std::move(found);
            done(std::move(reply));
        });
    });
    if (listed.status != Keychain::Reply::Status::Ok)
        return fail(kExitFailed, Keychain::describe(listed, Keychain::kIndexEntry));
    const QByteArray secret = readSecret(name);
    if (secret.isEmpty())
        return fail(kExitUsage, QStringLiteral("no secret given for '%1': pipe it in, e.g. "
                                               "understudy keys set %1 < key.txt, or type it when asked")
                                    .arg(name));
    const Keychain::Reply stored =
        local_token::await([&](Keychain::Callback done) { keychain.storeKey(name, secret, done); });
    if (stored.status != Keychain::Reply::Status::Ok)
        return fail(kExitFailed, Keychain::describe(stored, name));
    std::printf("Stored '%s' in the OS keychain (service '%s'). Refer to it in the config as \"keychain:%s\"; a "
                "running Understudy reads it when it next loads its config.\n",
                qPrintable(name), qPrintable(Keychain::kService), qPrintable(name));
    return 0;
}

int listKeys(Keychain& keychain) {
    QStringList names;
    const Keychain::Reply listed = local_token::await([&](Keychain::Callback done) {
        keychain.listKeys([&names, done](Keychain::Reply reply, QStringList found) {
            names = std::move(found);
            done(std::move(reply));
        });
    });
    if (listed.status != Keychain::Reply::Status::Ok)
        return fail(kExitFailed, Keychain::describe(listed, Keychain::kIndexEntry));
    if (names.isEmpty())
        std::fprintf(stderr, "understudy keys: no keys stored yet (add one with: understudy keys set NAME)\n");
    for (const QString& name : std::as_const(names))
        std::printf("%s\n", qPrintable(name));
    return 0;
}

int deleteKey(Keychain& keychain, const QString& name) {
    const Keychain::Reply removed =
        local_token::await([&](Keychain::Callback done) { keychain.deleteKey(name, done); });
    if (removed.status != Keychain::Reply::Status::Ok)
        return fail(kExitFailed, Keychain::describe(removed, name));
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
        if (const QString problem = Keychain::nameProblem(name); !problem.isEmpty())
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
