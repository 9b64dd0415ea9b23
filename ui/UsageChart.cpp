#include "UsageChart.h"

#include "Status.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <cmath>

namespace understudy::ui {
namespace {

const QString kOther = QStringLiteral("other");

struct SeriesStyle {
    QColor color;
    Qt::BrushStyle pattern;
};

// Okabe and Ito's palette, which stays distinct under the common colour-vision deficiencies, each paired
// with a pattern for readers (and printouts) that cannot tell the colours apart at all.
SeriesStyle seriesStyle(int index, const QString& name) {
    if (name == kOther)
        return {QColor(0x99, 0x99, 0x99), Qt::DiagCrossPattern};
    static const SeriesStyle styles[] = {
        {QColor(0x00, 0x72, 0xB2), Qt::SolidPattern}, {QColor(0xE6, 0x9F, 0x00), Qt::BDiagPattern},
        {QColor(0x00, 0x9E, 0x73), Qt::FDiagPattern}, {QColor(0xCC, 0x79, 0xA7), Qt::HorPattern},
        {QColor(0x56, 0xB4, 0xE9), Qt::VerPattern},   {QColor(0xD5, 0x5E, 0x00), Qt::CrossPattern},
    };
    return styles[index % std::size(styles)];
}

void fillSeries(QPainter& painter, const QRectF& rect, const SeriesStyle& style) {
    painter.fillRect(rect, style.color);
    if (style.pattern == Qt::SolidPattern)
        return;
    const QColor ink = style.color.lightnessF() > 0.55 ? QColor(0, 0, 0, 120) : QColor(255, 255, 255, 150);
    painter.fillRect(rect, QBrush(ink, style.pattern));
}

// The smallest of 1, 2, 5, 10, 20, 50… that is at least `value`: gridlines at round numbers.
qint64 niceCeiling(qint64 value) {
    qint64 magnitude = 1;
    while (true) {
        for (qint64 m : {1, 2, 5}) {
            if (m * magnitude >= value)
                return m * magnitude;
        }
        magnitude *= 10;
    }
}

qint64 busiestHour(const RequestsByHour& data) {
    qint64 most = 0;
    for (int hour = 0; hour < RequestsByHour::kHours; ++hour)
        most = std::max(most, data.hourTotal(hour));
    return most;
}

QString legendText(const RequestsByHour& data, const QString& target) {
    return QStringLiteral("%1 (%2)").arg(target).arg(data.targetTotal(target));
}

}  // namespace

UsageChart::UsageChart(QWidget* parent) : QWidget(parent) {
    setAccessibleName(QStringLiteral("Requests per hour over the last 24 hours, by serving model"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setData({});
}

void UsageChart::setData(const RequestsByHour& data) {
    m_data = data.foldedTo(kMaxSeries, kOther);
    QStringList summary;
    for (const QString& target : std::as_const(m_data.targets))
        summary.append(legendText(m_data, target));
    setAccessibleDescription(summary.isEmpty() ? QStringLiteral("No requests") : summary.join(QStringLiteral(", ")));
    update();
}

QString UsageChart::hourText(int hour) const {
    QStringList lines{QStringLiteral("%1–%2: %3 request(s)")
                          .arg(clockTime(m_data.hourStartMs(hour)), clockTime(m_data.hourStartMs(hour + 1)))
                          .arg(m_data.hourTotal(hour))};
    for (const QString& target : m_data.targets) {
        if (const qint64 n = m_data.count(target, hour))
            lines.append(QStringLiteral("%1: %2").arg(target).arg(n));
    }
    return lines.join(u'\n');
}

QSize UsageChart::sizeHint() const {
    const QFontMetrics fm = fontMetrics();
    return {fm.horizontalAdvance(QLatin1Char('0')) * 90, fm.height() * 10};
}

QSize UsageChart::minimumSizeHint() const {
    const QFontMetrics fm = fontMetrics();
    return {fm.horizontalAdvance(QLatin1Char('0')) * 50, fm.height() * 8};
}

// Everything is measured in the font's units, which follow the display scaling.
UsageChart::Geometry UsageChart::geometry() const {
    const QFontMetricsF fm(font());
    const double pad = fm.height() / 2;
    Geometry g;
    g.scaleMax = niceCeiling(std::max<qint64>(busiestHour(m_data), 1));
    double legendWidth = 0;
    for (const QString& target : m_data.targets)
        legendWidth = std::max(legendWidth, fm.height() * 1.5 + fm.horizontalAdvance(legendText(m_data, target)));
    legendWidth = std::min(legendWidth, width() * 0.4);
    const double axisWidth = fm.horizontalAdvance(QString::number(g.scaleMax)) + pad;
    g.plot = QRectF(QPointF(axisWidth + pad, pad),
                    QPointF(width() - legendWidth - (legendWidth > 0 ? 2 * pad : pad), height() - fm.height() - pad));
    g.legend = QRectF(QPointF(g.plot.right() + 2 * pad, pad), QPointF(width() - pad / 2, height() - pad));
    g.step = g.plot.width() / RequestsByHour::kHours;
    return g;
}

void UsageChart::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing, false);  // crisp bar edges at any scale
    const Geometry g = geometry();
    paintAxes(painter, g);
    if (m_data.targets.isEmpty()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(g.plot, Qt::AlignCenter, QStringLiteral("No requests in the last 24 hours"));
        return;
    }
    paintBars(painter, g);
    paintLegend(painter, g);
}

void UsageChart::paintAxes(QPainter& painter, const Geometry& g) const {
    const QFontMetricsF fm(font());
    const QColor text = palette().color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlphaF(0.2);
    QList<qint64> ticks{0, g.scaleMax};
    if (g.scaleMax >= 2 && g.scaleMax % 2 == 0)
        ticks.insert(1, g.scaleMax / 2);
    for (qint64 tick : ticks) {
        const double y = g.plot.bottom() - g.plot.height() * double(tick) / double(g.scaleMax);
        painter.setPen(QPen(tick == 0 ? text : grid, 0));
        painter.drawLine(QPointF(g.plot.left(), y), QPointF(g.plot.right(), y));
        painter.setPen(text);
        painter.drawText(QRectF(0, y - fm.height() / 2, g.plot.left() - fm.height() / 2, fm.height()),
                         Qt::AlignRight | Qt::AlignVCenter, QString::number(tick));
    }
    // An hour label every 6 bars, or every 12 when the bars are too narrow for that.
    const int every = g.step * 6 >= fm.horizontalAdvance(QStringLiteral("00:00 ")) ? 6 : 12;
    for (int hour = 0; hour < RequestsByHour::kHours; hour += every) {
        const double x = g.plot.left() + hour * g.step;
        painter.drawText(QRectF(x, g.plot.bottom() + 2, g.step * every, fm.height()), Qt::AlignLeft | Qt::AlignTop,
                         clockTime(m_data.hourStartMs(hour)));
    }
    painter.drawText(QRectF(g.plot.right() - g.step * 4, g.plot.bottom() + 2, g.step * 4, fm.height()),
                     Qt::AlignRight | Qt::AlignTop, QStringLiteral("now"));
}

void UsageChart::paintBars(QPainter& painter, const Geometry& g) const {
    const double barWidth = std::max(1.0, g.step * 0.75);
    for (int hour = 0; hour < RequestsByHour::kHours; ++hour) {
        double bottom = g.plot.bottom();
        const double left = g.plot.left() + hour * g.step + (g.step - barWidth) / 2;
        for (qsizetype i = 0; i < m_data.targets.size(); ++i) {
            const qint64 n = m_data.counts[i][hour];
            if (n == 0)
                continue;
            const double height = g.plot.height() * double(n) / double(g.scaleMax);
            const QRectF segment(left, bottom - height, barWidth, height);
            fillSeries(painter, segment, seriesStyle(int(i), m_data.targets[i]));
            bottom -= height;
        }
    }
}

// Top to bottom in the order the segments stack from the bottom up: the first entry is the bottom segment.
void UsageChart::paintLegend(QPainter& painter, const Geometry& g) const {
    const QFontMetricsF fm(font());
    const double line = fm.height() * 1.4;
    const double swatch = fm.height() * 0.9;
    painter.setPen(palette().color(QPalette::WindowText));
    for (qsizetype i = 0; i < m_data.targets.size(); ++i) {
        const double y = g.legend.top() + i * line;
        if (y + fm.height() > height())
            break;
        const QRectF box(g.legend.left(), y + (fm.height() - swatch) / 2, swatch, swatch);
        fillSeries(painter, box, seriesStyle(int(i), m_data.targets[i]));
        painter.drawRect(box);
        const QRectF label(box.right() + swatch / 2, y, g.legend.right() - box.right() - swatch / 2, fm.height());
        painter.drawText(label, Qt::AlignLeft | Qt::AlignVCenter,
                         fm.elidedText(legendText(m_data, m_data.targets[i]), Qt::ElideMiddle, label.width()));
    }
}

bool UsageChart::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip)
        return QWidget::event(event);
    const auto* help = static_cast<QHelpEvent*>(event);
    const Geometry g = geometry();
    const QPointF at = help->pos();
    const int hour = int(std::floor((at.x() - g.plot.left()) / g.step));
    if (m_data.targets.isEmpty() || at.y() < g.plot.top() || at.y() > g.plot.bottom() || hour < 0
        || hour >= RequestsByHour::kHours) {
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    QToolTip::showText(help->globalPos(), hourText(hour), this);
    return true;
}

}  // namespace understudy::ui
