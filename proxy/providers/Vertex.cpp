#include "providers/Vertex.h"

#include <QRegularExpression>

namespace understudy::vertex {
namespace {

// Vertex's ids for the models Anthropic names without a date (platform.claude.com "Claude on Vertex AI").
struct DatedModel {
    const char* alias;
    const char* vertexId;
};
constexpr DatedModel kDatedModels[] = {
    {"claude-opus-4-5", "claude-opus-4-5@20251101"},   {"claude-sonnet-4-5", "claude-sonnet-4-5@20250929"},
    {"claude-haiku-4-5", "claude-haiku-4-5@20251001"}, {"claude-opus-4-1", "claude-opus-4-1@20250805"},
    {"claude-opus-4-0", "claude-opus-4@20250514"},     {"claude-opus-4", "claude-opus-4@20250514"},
    {"claude-sonnet-4-0", "claude-sonnet-4@20250514"}, {"claude-sonnet-4", "claude-sonnet-4@20250514"},
    {"claude-3-7-sonnet-latest", "claude-3-7-sonnet@20250219"},
    {"claude-3-5-haiku-latest", "claude-3-5-haiku@20241022"},
};

// The bytes of `member` (key through value) plus one separating comma, so that what remains is valid JSON.
json::Span memberWithComma(QByteArrayView body, const json::Member& member) {
    json::Span span{member.key.begin - 1, member.value.end};  // from the key's opening quote
    qsizetype after = span.end;
    while (after < body.size() && QChar::isSpace(body[after]))
        ++after;
    if (after < body.size() && body[after] == ',') {
        span.end = after + 1;
        return span;
    }
    qsizetype before = span.begin - 1;  // the last member: take the comma in front of it instead
    while (before >= 0 && QChar::isSpace(body[before]))
        --before;
    if (before >= 0 && body[before] == ',')
        span.begin = before;
    return span;
}

QByteArray versionMember() { return QByteArray("\"anthropic_version\":\"") + kAnthropicVersion + '"'; }

// `body` with "anthropic_version" as its first member.
QByteArray withVersionFirst(QByteArrayView body, bool hasMembers) {
    const qsizetype open = body.indexOf('{');
    return body.first(open + 1).toByteArray() + versionMember() + (hasMembers ? "," : "")
         + body.sliced(open + 1).toByteArray();
}

}  // namespace

QString modelId(const QString& model) {
    if (model.contains(QLatin1Char('@')))
        return model;
    static const QRegularExpression dated(QStringLiteral("^(claude-.+)-(\\d{8})$"));
    if (const QRegularExpressionMatch match = dated.match(model); match.hasMatch())
        return match.captured(1) + QLatin1Char('@') + match.captured(2);
    for (const DatedModel& known : kDatedModels) {
        if (model == QLatin1String(known.alias))
            return QString::fromLatin1(known.vertexId);
    }
    return model;
}

QUrl apiRoot(const QString& region) {
    if (region == u"global")
        return QUrl(QStringLiteral("https://aiplatform.googleapis.com"));
    if (region == u"us" || region == u"eu")
        return QUrl(QStringLiteral("https://aiplatform.%1.rep.googleapis.com").arg(region));
    return QUrl(QStringLiteral("https://%1-aiplatform.googleapis.com").arg(region));
}

QUrl requestUrl(const QUrl& root, const QString& project, const QString& region, const QString& model, bool stream,
                bool countTokens) {
    QUrl url = root.isEmpty() ? apiRoot(region) : root;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    const QString method = countTokens ? QStringLiteral("count-tokens:rawPredict")
                                       : modelId(model) + (stream ? QStringLiteral(":streamRawPredict")
                                                                  : QStringLiteral(":rawPredict"));
    url.setPath(path + QStringLiteral("/v1/projects/%1/locations/%2/publishers/anthropic/models/%3")
                           .arg(project, region, method));
    url.setQuery(QString());
    return url;
}

QByteArray requestBody(QByteArrayView body, const json::ObjectScan& scan, bool countTokens,
                       const QString& countTokensModel) {
    const json::Member* model = scan.findMember("model");
    const bool hasVersion = scan.find("anthropic_version").isValid();
    if (countTokens) {
        const QByteArray withModel = model
            ? json::replaced(body, model->value, json::quoted(modelId(countTokensModel))) : body.toByteArray();
        return hasVersion ? withModel : withVersionFirst(withModel, !scan.members.isEmpty());
    }
    if (model && !hasVersion)  // the common case: one member swapped for the other
        return json::replaced(body, {model->key.begin - 1, model->value.end}, versionMember());
    if (model)
        return json::replaced(body, memberWithComma(body, *model), {});
    return hasVersion ? body.toByteArray() : withVersionFirst(body, !scan.members.isEmpty());
}

}  // namespace understudy::vertex
