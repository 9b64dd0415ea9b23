#include "routing/ModelTraits.h"

#include <QRegularExpression>

namespace understudy {

bool refusesPrefill(QStringView model) {
    if (model.contains(u"claude-mythos", Qt::CaseInsensitive))
        return true;
    // claude-<family>-<major>[-<minor>], the minor one or two digits (eight are a snapshot date: "-4-20250514").
    static const QRegularExpression version(QStringLiteral("claude-(?:opus|sonnet|haiku)-(\\d+)(?:-(\\d{1,2}))?(?!\\d)"),
                                            QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = version.match(model.toString());
    if (!m.hasMatch())
        return false;
    const int major = m.captured(1).toInt();
    const int minor = m.captured(2).toInt();
    return major > 4 || (major == 4 && minor >= 6);
}

}  // namespace understudy
