#include "ConfigDraft.h"

#include "json/JsonScan.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace understudy::ui {
namespace {

// Ordered members of an object to be written, each value already JSON text: QJsonObject sorts its keys, but a
// model map is matched in file order and a provider reads best with its type first.
using Members = QList<QPair<QString, QString>>;

QString scalar(const QJsonValue& value) {
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}

QString inlineMembers(const Members& members) {
    if (members.isEmpty())
        return QStringLiteral("{}");
    QStringList parts;
    for (const auto& [key, value] : members)
        parts.append(scalar(key) + QStringLiteral(": ") + value);
    return QStringLiteral("{ ") + parts.join(QStringLiteral(", ")) + QStringLiteral(" }");
}

Members ordered(const QJsonObject& object, const QStringList& first);

QString inlineValue(const QJsonValue& value) {
    if (value.isObject())
        return inlineMembers(ordered(value.toObject(), {}));
    if (value.isArray()) {
        QStringList parts;
        for (const QJsonValue& item : value.toArray())
            parts.append(inlineValue(item));
        return u'[' + parts.join(QStringLiteral(", ")) + u']';
    }
    return scalar(value);
}

// `object`'s members with `first` (those present) leading in that order, then the rest by name.
Members ordered(const QJsonObject& object, const QStringList& first) {
    Members members;
    for (const QString& key : first)
        if (object.contains(key))
            members.append({key, inlineValue(object.value(key))});
    for (auto it = object.begin(); it != object.end(); ++it)
        if (!first.contains(it.key()))
            members.append({it.key(), inlineValue(it.value())});
    return members;
}

// An object written one member a line, at the indentation of a top-level member's value.
QString block(const QStringList& lines) {
    if (lines.isEmpty())
        return QStringLiteral("{}");
    return QStringLiteral("{\n    ") + lines.join(QStringLiteral(",\n    ")) + QStringLiteral("\n  }");
}

QString stepText(const ConfigDraft::Step& step) {
    Members members{{QStringLiteral("provider"), scalar(step.provider)}};
    switch (step.model.kind) {
    case ModelMapping::Kind::Keep: break;
    case ModelMapping::Kind::Replace: members.append({QStringLiteral("model"), scalar(step.model.model)}); break;
    case ModelMapping::Kind::Map: {
        Members globs;
        for (const auto& [glob, model] : step.model.globs)
            globs.append({glob, scalar(model)});
        members.append({QStringLiteral("model"), inlineMembers(globs)});
        break;
    }
    }
    members.append(ordered(step.extra, {}));
    return inlineMembers(members);
}

QString providersText(const ConfigDraft& draft) {
    QStringList lines;
    for (const ConfigDraft::Provider& provider : draft.providers)
        lines.append(scalar(provider.id) + QStringLiteral(": ")
                     + inlineMembers(ordered(provider.fields, {"type", "baseUrl", "auth", "apiKey"})));
    return block(lines);
}

QString chainsText(const ConfigDraft& draft) {
    QStringList lines;
    for (const ConfigDraft::Chain& chain : draft.chains) {
        QStringList steps;
        for (const ConfigDraft::Step& step : chain.steps)
            steps.append(QStringLiteral("      ") + stepText(step));
        lines.append(scalar(chain.id) + QStringLiteral(": { \"steps\": [")
                     + (steps.isEmpty() ? QString() : u'\n' + steps.join(QStringLiteral(",\n")) + QStringLiteral("\n    "))
                     + QStringLiteral("] }"));
    }
    return block(lines);
}

QString failoverText(const ConfigDraft& draft) {
    QStringList lines;
    const Members members = ordered(draft.failover, {"triggerOnStatusCodes", "retriesBeforeFailover",
                                                     "maxRetryAfterWaitMs", "connectTimeoutMs", "firstTokenTimeoutMs",
                                                     "firstTokenTimeoutPer100kTokensMs", "streamIdleTimeoutMs",
                                                     "totalBudgetMs", "primaryRecoveryCheckIntervalMs"});
    for (const auto& [key, value] : members)
        lines.append(scalar(key) + QStringLiteral(": ") + value);
    return block(lines);
}

// The top-level members the dialog writes, each as the text of its value.
QList<QPair<QByteArray, QString>> memberTexts(const ConfigDraft& draft) {
    return {
        {"listen", inlineMembers(ordered(draft.listen, {"host", "port"}))},
        {"providers", providersText(draft)},
        {"chains", chainsText(draft)},
        {"activeChain", scalar(draft.activeChain)},
        {"failover", failoverText(draft)},
    };
}

// `document` with the top-level member `key` set to `value`: its old value's bytes replaced, or the member
// added before the closing brace.
QByteArray withMember(const QByteArray& document, const QByteArray& key, const QByteArray& value) {
    const json::ObjectScan scan = json::scanObject(document);
    if (const json::Span span = scan.find(key); span.isValid())
        return json::replaced(document, span, value);
    const qsizetype close = document.lastIndexOf('}');
    QByteArray before = document.left(close);
    while (!before.isEmpty() && QByteArrayView(" \t\r\n").contains(before.back()))
        before.chop(1);
    const bool empty = before.endsWith('{');
    return before + (empty ? "\n  \"" : ",\n  \"") + key + "\": " + value + "\n" + document.mid(close);
}

QList<QString> memberOrder(const QByteArray& document, const char* key) {
    const json::ObjectScan scan = json::scanObject(document);
    const json::Span span = scan.find(key);
    QList<QString> keys;
    if (!span.isValid())
        return keys;
    const json::ObjectScan inner = json::scanObject(document.mid(span.begin, span.end - span.begin));
    for (const json::Member& member : inner.members)
        keys.append(QString::fromUtf8(inner.keyOf(member)));
    return keys;
}

}  // namespace

QString configChildPath(const QString& parent, const QString& key) {
    const bool plain = !key.isEmpty() && std::all_of(key.begin(), key.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'_'
            || c == u'-';
    });
    if (plain)
        return parent + u'.' + key;
    QString escaped = key;
    escaped.replace(u'\\', QStringLiteral("\\\\")).replace(u'"', QStringLiteral("\\\""));
    return parent + QStringLiteral("[\"") + escaped + QStringLiteral("\"]");
}

std::optional<ConfigDraft> ConfigDraft::fromDocument(const QByteArray& document) {
    ConfigResult parsed = parseConfig(document);
    if (!parsed.config)
        return std::nullopt;
    const QJsonObject root = QJsonDocument::fromJson(document).object();
    ConfigDraft draft;
    const QJsonObject providers = root.value(QStringLiteral("providers")).toObject();
    for (const QString& id : memberOrder(document, "providers"))
        draft.providers.append({id, providers.value(id).toObject()});
    const QJsonObject chains = root.value(QStringLiteral("chains")).toObject();
    for (const QString& id : memberOrder(document, "chains")) {
        Chain chain{id, {}};
        const QJsonArray steps = chains.value(id).toObject().value(QStringLiteral("steps")).toArray();
        const QList<StepConfig>& parsedSteps = parsed.config->chains.value(id).steps;
        for (qsizetype i = 0; i < parsedSteps.size(); ++i) {
            QJsonObject extra = steps.at(i).toObject();
            extra.remove(QStringLiteral("provider"));
            extra.remove(QStringLiteral("model"));
            chain.steps.append({parsedSteps[i].provider, parsedSteps[i].model, extra});
        }
        draft.chains.append(chain);
    }
    draft.activeChain = parsed.config->activeChain;
    draft.listen = root.value(QStringLiteral("listen")).toObject();
    draft.failover = root.value(QStringLiteral("failover")).toObject();
    return draft;
}

QByteArray ConfigDraft::appliedTo(const QByteArray& document, const ConfigDraft& baseline) const {
    const auto mine = memberTexts(*this);
    const auto before = memberTexts(baseline);
    QByteArray result = document;
    for (qsizetype i = 0; i < mine.size(); ++i)
        if (mine[i].second != before[i].second)
            result = withMember(result, mine[i].first, mine[i].second.toUtf8());
    return result;
}

ConfigDraft::Provider* ConfigDraft::provider(const QString& id) {
    for (Provider& provider : providers)
        if (provider.id == id)
            return &provider;
    return nullptr;
}

ConfigDraft::Chain* ConfigDraft::chain(const QString& id) {
    for (Chain& chain : chains)
        if (chain.id == id)
            return &chain;
    return nullptr;
}

}  // namespace understudy::ui
