#include "dialects/ToolIds.h"

#include "dialects/Wire.h"

#include <QRegularExpression>

namespace understudy::toolids {
namespace {

bool isAnthropicSafe(const QString& id) {
    static const QRegularExpression pattern(QStringLiteral("^[a-zA-Z0-9_-]+$"));
    return pattern.match(id).hasMatch();
}

QString safeCharacters(const QString& id) {
    QString safe;
    for (const QChar c : id) {
        const bool ok = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'-';
        safe.append(ok ? c : QChar(u'_'));
    }
    return safe.left(32);
}

}  // namespace

QString anthropicId(const QString& id, const QString& salt) {
    if (isAnthropicSafe(id))
        return id;
    const QString prefix = id.isEmpty() ? QStringLiteral("toolu") : safeCharacters(id);
    return wire::mintedId(prefix, id + QLatin1Char('\n') + salt);
}

QString chatId(const QString& id) {
    if (!id.isEmpty() && id.size() <= 40)
        return id;
    return wire::mintedId(QStringLiteral("call"), id).left(40);
}

QString AnthropicIdMapper::mapped(const QString& id, int occurrence) {
    if (occurrence == 0)
        return anthropicId(id);
    return wire::mintedId(safeCharacters(id), id + QLatin1Char('#') + QString::number(occurrence));
}

}  // namespace understudy::toolids
