#include "ProblemPlace.h"

#include <QRegularExpression>

namespace understudy::ui {
namespace {

// The first key of `rest` (".baseUrl.x" -> "baseUrl", "[\"a.b\"]" -> "a.b"); empty when rest is empty.
QString firstKey(const QString& rest) {
    if (rest.startsWith(u'.')) {
        const qsizetype end = rest.indexOf(QRegularExpression(QStringLiteral("[.\\[]")), 1);
        return rest.mid(1, end < 0 ? -1 : end - 1);
    }
    if (rest.startsWith(QStringLiteral("[\"")))
        return rest.mid(2, rest.indexOf(QStringLiteral("\"]")) - 2);
    return {};
}

// The id among `ids` that `path` continues into from `parent`, and what follows it.
std::optional<std::pair<QString, QString>> child(const QString& path, const QString& parent, const QStringList& ids) {
    for (const QString& id : ids) {
        const QString prefix = configChildPath(parent, id);
        if (path == prefix)
            return std::pair{id, QString()};
        if (path.startsWith(prefix) && (path[prefix.size()] == u'.' || path[prefix.size()] == u'['))
            return std::pair{id, path.mid(prefix.size())};
    }
    return std::nullopt;
}

void placeInChain(ProblemPlace& place, const QString& rest) {
    static const QRegularExpression step(QStringLiteral("^\\.steps\\[(\\d+)\\](.*)$"));
    if (const QRegularExpressionMatch m = step.match(rest); m.hasMatch()) {
        place.step = m.captured(1).toInt();
        place.field = firstKey(m.captured(2));
        return;
    }
    place.field = firstKey(rest);
}

}  // namespace

ProblemPlace placeProblem(const ConfigProblem& problem, const ConfigDraft& draft) {
    ProblemPlace place;
    place.message = problem.message;
    const QString& path = problem.path;
    QStringList providers, chains;
    for (const ConfigDraft::Provider& p : draft.providers)
        providers.append(p.id);
    for (const ConfigDraft::Chain& c : draft.chains)
        chains.append(c.id);
    if (const auto hit = child(path, QStringLiteral("$.providers"), providers)) {
        place.page = ProblemPlace::Page::Providers;
        place.item = hit->first;
        place.field = firstKey(hit->second);
    } else if (const auto hit = child(path, QStringLiteral("$.chains"), chains)) {
        place.page = ProblemPlace::Page::Chains;
        place.item = hit->first;
        placeInChain(place, hit->second);
    } else if (path.startsWith(QStringLiteral("$.activeChain"))) {
        place.page = ProblemPlace::Page::Chains;
        place.item = draft.activeChain;
    } else if (path.startsWith(QStringLiteral("$.failover"))) {
        place.page = ProblemPlace::Page::Failover;
        place.field = firstKey(path.mid(10));
    } else if (path.startsWith(QStringLiteral("$.listen"))) {
        place.field = firstKey(path.mid(8));
    }
    return place;
}

}  // namespace understudy::ui
