#pragma once

#include "telemetry/Ledger.h"

#include <QWidget>

namespace understudy::ui {

// Requests per hour over the last 24 hours, one stacked bar per hour, a segment per serving model. Each
// series has a colour and a fill pattern, and the legend names it with its total, so that colour is never
// the only way to tell series apart; hovering a bar lists that hour's figures. Sized from the font, so it
// reads the same at any display scaling.
class UsageChart : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxSeries = 6;  // the rest are summed as "other"

    explicit UsageChart(QWidget* parent = nullptr);

    void setData(const RequestsByHour& data);
    // What is drawn: the data folded to kMaxSeries.
    const RequestsByHour& data() const { return m_data; }
    // The text a tooltip shows for `hour` (0: the oldest).
    QString hourText(int hour) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct Geometry {
        QRectF plot;    // the bars
        QRectF legend;  // right of the plot
        double step = 0;  // width per hour
        qint64 scaleMax = 0;
    };
    Geometry geometry() const;
    void paintAxes(QPainter& painter, const Geometry& g) const;
    void paintBars(QPainter& painter, const Geometry& g) const;
    void paintLegend(QPainter& painter, const Geometry& g) const;

    RequestsByHour m_data;
};

}  // namespace understudy::ui
