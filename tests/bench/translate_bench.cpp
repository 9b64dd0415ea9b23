// What translating a 1 MB request costs, per dialect pair (issue 11). Figures, not a timed test (DESIGN.md §6).
// The body is the one tests/bench/bench.py sends: the captured Claude Code request with its history repeated
// 150 times. The same content in the other two dialects is that body translated once, so every pair carries
// the same history. Usage: translate_bench [rounds] [from to]; with a pair it runs only that pair, which is
// what `valgrind --tool=callgrind` wants.
#include "dialects/Translation.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <ctime>
#include <limits>

using namespace understudy;

namespace {

QByteArray megabyteAnthropicBody() {
    QFile file(QStringLiteral(UNDERSTUDY_TEST_DATA "/fixtures/claude_code.messages.stream.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read the Claude Code fixture");
    QJsonObject body = QJsonDocument::fromJson(file.readAll()).object().value(u"body").toObject();
    QJsonArray history;
    for (int i = 0; i < 150; ++i) {
        for (const QJsonValue& message : body.value(u"messages").toArray())
            history.append(message);
    }
    body.insert(QStringLiteral("messages"), history);
    body.insert(QStringLiteral("stream"), false);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

// CPU time of this thread: the machine is shared, so wall time says more about the neighbours than the code.
double cpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

double bestMs(Dialect from, Dialect to, const QByteArray& body, int rounds) {
    double best = std::numeric_limits<double>::max();
    for (int i = 0; i < rounds; ++i) {
        const double start = cpuMs();
        const Translated result = translateRequest(from, to, body, QStringLiteral("bench-model"));
        best = std::min(best, cpuMs() - start);
        if (!result.error.isEmpty())
            qFatal("%s", qPrintable(result.error));
    }
    return best;
}

std::optional<Dialect> dialectNamed(const char* name) {
    for (Dialect d : {Dialect::AnthropicMessages, Dialect::OpenAIChat, Dialect::OpenAIResponses}) {
        if (dialectName(d) == QLatin1String(name))
            return d;
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char* argv[]) {
    QCoreApplication app(argc, argv);
    const int rounds = argc > 1 ? std::max(1, atoi(argv[1])) : 20;
    const Dialect all[] = {Dialect::AnthropicMessages, Dialect::OpenAIChat, Dialect::OpenAIResponses};
    QHash<Dialect, QByteArray> bodies{{Dialect::AnthropicMessages, megabyteAnthropicBody()}};
    for (Dialect d : {Dialect::OpenAIChat, Dialect::OpenAIResponses})
        bodies.insert(d, translateRequest(Dialect::AnthropicMessages, d, bodies[Dialect::AnthropicMessages],
                                          QStringLiteral("bench-model")).body);

    if (argc > 3) {
        const std::optional<Dialect> from = dialectNamed(argv[2]), to = dialectNamed(argv[3]);
        if (!from || !to)
            qFatal("dialects: %s, %s, %s", qPrintable(dialectName(all[0])), qPrintable(dialectName(all[1])),
                   qPrintable(dialectName(all[2])));
        const double ms = bestMs(*from, *to, bodies[*from], rounds);
        std::printf("%s -> %s: %.2f ms CPU\n", argv[2], argv[3], ms);
        return 0;
    }
    std::printf("%-40s %9s %10s %10s\n", "pair", "body KB", "best ms", "ms per MB");
    for (Dialect from : all) {
        for (Dialect to : all) {
            if (from == to)
                continue;  // same-dialect requests pass through untranslated
            const QByteArray& body = bodies[from];
            const double ms = bestMs(from, to, body, rounds);
            const QString pair = dialectName(from) + QStringLiteral(" -> ") + dialectName(to);
            std::printf("%-40s %9lld %10.2f %10.2f\n", qPrintable(pair), static_cast<long long>(body.size() / 1024), ms,
                        ms * 1024 * 1024 / double(body.size()));
        }
    }
    return 0;
}
