// The status window's usage section against a real ledger (SQLite in a temporary folder): rows written at
// known times come out as today's and this month's figures per provider and as the hourly chart; and the
// whole app path, where the config's retention reaches the ledger thread.
#include "ProxyHost.h"
#include "StatusWindow.h"
#include "TrayApp.h"

#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QFile>
#include <QGroupBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestUsageWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void usageSection_showsTodayAndMonthPerProvider_andRequestsPerHourByModel();
    void chart_foldsQuietModelsIntoOther_andPaintsAtBothScales();
    void beforeTheFirstSnapshot_andWhenTheLedgerFails();
    void app_retentionFromTheConfigPrunesAtStartAndOnReload_andTheWindowShowsARequest();

private:
    QTemporaryDir m_dir;
};

namespace {

constexpr qint64 kHourMs = 60LL * 60 * 1000;

// A June day, far from any daylight-saving change, so that "local hours" are plain hours.
const QDateTime kNow(QDate(2026, 6, 17), QTime(14, 30));

qint64 at(const QDate& day, int hour, int minute) { return QDateTime(day, QTime(hour, minute)).toMSecsSinceEpoch(); }

UsageRecord served(qint64 timeMs, const QString& provider, const QString& model, int depth = 0,
                   TokenUsage tokens = {1000, 500, 0, 0}) {
    UsageRecord r;
    r.timeMs = timeMs;
    r.client = QStringLiteral("claude-code");
    r.chain = QStringLiteral("main");
    r.requestedModel = QStringLiteral("claude-sonnet-5");
    r.provider = provider;
    r.model = model;
    r.fallbackDepth = depth;
    if (depth > 0)
        r.failureReasons = {QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded")};
    r.tokens = tokens;
    r.totalMs = 900;
    r.status = 200;
    r.outcome = QStringLiteral("served");
    return r;
}

UsageRecord allFailed(qint64 timeMs) {
    UsageRecord r = served(timeMs, {}, {}, 0, {});
    r.failureReasons = {QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded"),
                        QStringLiteral("zai/glm-5: connection refused")};
    r.status = 529;
    r.outcome = QStringLiteral("all_failed");
    return r;
}

// Prices of the test's own, so the expected costs do not move with the built-in table.
const Pricing kPricing({{QStringLiteral("claude-sonnet-5"), {2.0, 10.0, 0.2, 2.5}},
                        {QStringLiteral("glm-5"), {1.0, 4.0, 0.0, 0.0}}},
                       {});

QString write(const QString& path, const QList<UsageRecord>& records) {
    Ledger db(path, Ledger::Mode::ReadWrite);
    if (!db.openError().isEmpty())
        return db.openError();
    QList<LedgerRow> rows;
    for (const UsageRecord& r : records)
        rows.append(priceRecord(r, kPricing));
    return db.insert(rows);
}

const QTreeWidgetItem* child(const QTreeWidgetItem* period, const QString& provider) {
    for (int i = 0; i < period->childCount(); ++i) {
        if (period->child(i)->text(0) == provider)
            return period->child(i);
    }
    return nullptr;
}

QStringList cells(const QTreeWidgetItem* item) {
    QStringList texts;
    for (int column = 0; item && column < item->columnCount(); ++column)
        texts.append(item->text(column));
    return texts;
}

int rowCount(const QString& path) {
    const Ledger db(path, Ledger::Mode::ReadOnly);
    qint64 rows = 0;
    for (const UsageRow& r : db.summary(0, UsageGrouping::Provider))
        rows += r.requests;
    return int(rows);
}

// The same image rendered at device pixel ratio `ratio`, as a 100 % or 200 % display would show it.
QImage rendered(QWidget& widget, qreal ratio) {
    QImage image(widget.size() * ratio, QImage::Format_ARGB32);
    image.setDevicePixelRatio(ratio);
    image.fill(Qt::white);
    widget.render(&image);
    return image;
}

int pixelsOf(const QImage& image, QRgb colour) {
    int n = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            n += (line[x] & 0xFFFFFF) == (colour & 0xFFFFFF);
    }
    return n;
}

}  // namespace

void TestUsageWindow::usageSection_showsTodayAndMonthPerProvider_andRequestsPerHourByModel() {
    const QString path = m_dir.filePath(QStringLiteral("window.sqlite"));
    const QDate today = kNow.date(), yesterday = today.addDays(-1);
    const QString sonnet = QStringLiteral("claude-sonnet-5"), glm = QStringLiteral("glm-5");
    const QString anthropic = QStringLiteral("anthropic"), zai = QStringLiteral("zai");
    QCOMPARE(write(path, {
        served(at(today, 14, 10), anthropic, sonnet, 0, {1000, 500, 20000, 4000}),  // the current hour
        served(at(today, 14, 20), anthropic, sonnet),
        served(at(today, 12, 5), zai, glm, 1, {2000, 1000, 0, 0}),                  // a failover
        allFailed(at(today, 12, 40)),
        served(at(yesterday, 20, 15), zai, glm),                                    // this month, in the chart
        served(at(yesterday, 14, 59), anthropic, sonnet),  // this month, before the chart's first hour (15:00)
        served(at(QDate(2026, 6, 2), 9, 0), anthropic, sonnet),                     // this month only
        served(at(QDate(2026, 5, 30), 9, 0), anthropic, sonnet),                    // last month: nowhere
    }), QString());

    const Ledger db(path, Ledger::Mode::ReadOnly);
    ui::StatusBoard board;
    board.usage(db.snapshot(kNow.toMSecsSinceEpoch()));
    ui::StatusWindow window;
    window.render(board.status());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    const QTreeWidget& usage = window.usage();
    QCOMPARE(usage.topLevelItemCount(), 2);
    const QTreeWidgetItem* todayRow = usage.topLevelItem(0);
    const QTreeWidgetItem* monthRow = usage.topLevelItem(1);
    // Sonnet: (1000×2 + 500×10 + 20000×0.2 + 4000×2.5) + (1000×2 + 500×10) = 28000 micro-dollars.
    QCOMPARE(cells(child(todayRow, anthropic)), QStringList({"anthropic", "2", "2000", "1000", "20.0k", "4000", "$0.0280"}));
    // GLM: 2000×1 + 1000×4 = 6000 micro-dollars.
    QCOMPARE(cells(child(todayRow, zai)), QStringList({"zai", "1", "2000", "1000", "0", "0", "$0.0060"}));
    QCOMPARE(cells(child(todayRow, "no answer")), QStringList({"no answer", "1", "0", "0", "0", "0", "$0.0000"}));
    QCOMPARE(todayRow->childCount(), 3);
    QCOMPARE(cells(todayRow), QStringList({"Today", "4", "4000", "2000", "20.0k", "4000", "$0.0340"}));
    // This month adds two Sonnet requests (28000 + 2×7000) and one GLM (6000 + 1000×1 + 500×4).
    QCOMPARE(cells(child(monthRow, anthropic)), QStringList({"anthropic", "4", "4000", "2000", "20.0k", "4000", "$0.0420"}));
    QCOMPARE(cells(child(monthRow, zai)), QStringList({"zai", "2", "3000", "1500", "0", "0", "$0.0090"}));
    QCOMPARE(monthRow->text(0), "This month");
    QCOMPARE(monthRow->text(1), "7");

    // 2 failed over (the GLM answer and the all-failed one), none in the last hour; the chain was on fallback
    // from 12:05 until Sonnet answered again at 14:10.
    QCOMPARE(window.failoverSummary(),
             QStringLiteral("Last 24 h: 2 request(s) failed over (0.1/h, 0 in the last hour) · 2 h 5 min on fallback · "
                            "recovery after 2 h 5 min (mean 2 h 5 min over 1)."));
    QVERIFY2(window.usageNote().startsWith("Updated 14:30"), qPrintable(window.usageNote()));

    const RequestsByHour& chart = window.usageChart().data();
    QCOMPARE(chart.firstHourMs, at(yesterday, 15, 0));
    QCOMPARE(chart.targets, QStringList({"anthropic/claude-sonnet-5", "zai/glm-5", RequestsByHour::noAnswer()}));
    QCOMPARE(chart.count("anthropic/claude-sonnet-5", 23), 2);  // 14:00–15:00 today
    QCOMPARE(chart.count("zai/glm-5", 21), 1);                  // 12:00–13:00
    QCOMPARE(chart.count(RequestsByHour::noAnswer(), 21), 1);
    QCOMPARE(chart.count("zai/glm-5", 5), 1);                   // 20:00–21:00 yesterday
    qint64 charted = 0;
    for (int hour = 0; hour < RequestsByHour::kHours; ++hour)
        charted += chart.hourTotal(hour);
    QCOMPARE(charted, 5);
    QCOMPARE(window.usageChart().hourText(21), "12:00–13:00: 2 request(s)\nzai/glm-5: 1\nno answer: 1");

    if (const QString dir = qEnvironmentVariable("UNDERSTUDY_SCREENSHOTS"); !dir.isEmpty() && QDir().mkpath(dir)) {
        for (QGroupBox* section : window.findChildren<QGroupBox*>()) {
            if (section->title() == QLatin1String("Usage")) {
                rendered(*section, 1.0).save(dir + QStringLiteral("/status-usage.png"));
                rendered(*section, 2.0).save(dir + QStringLiteral("/status-usage@2x.png"));
            }
        }
    }

    // A newer snapshot replaces the figures; the same one again is not redrawn.
    UsageSnapshot later = db.snapshot(kNow.addSecs(3600).toMSecsSinceEpoch());
    board.usage(later);
    window.render(board.status());
    QCOMPARE(window.usageChart().data().count("anthropic/claude-sonnet-5", 22), 2);  // the bars moved an hour left
}

void TestUsageWindow::chart_foldsQuietModelsIntoOther_andPaintsAtBothScales() {
    RequestsByHour data;
    data.firstHourMs = kNow.toMSecsSinceEpoch() - 23 * kHourMs;
    for (int i = 0; i < 9; ++i)
        data.add(QStringLiteral("p/model-%1").arg(i), i, 9 - i);  // model-0 busiest
    ui::UsageChart chart;
    chart.setData(data);
    QCOMPARE(chart.data().targets.size(), ui::UsageChart::kMaxSeries);
    QCOMPARE(chart.data().targets.first(), "p/model-0");
    QCOMPARE(chart.data().targets.last(), "other");
    QCOMPARE(chart.data().count("other", 5), 4);  // model-5
    QCOMPARE(chart.data().count("other", 8), 1);  // model-8
    QCOMPARE(chart.data().targetTotal("other"), 4 + 3 + 2 + 1);

    // The first series is solid Okabe-Ito blue: its bars and legend swatch are painted at either scale, and
    // at 200 % they cover about four times the device pixels.
    chart.resize(chart.sizeHint());
    const int single = pixelsOf(rendered(chart, 1.0), qRgb(0x00, 0x72, 0xB2));
    const int twice = pixelsOf(rendered(chart, 2.0), qRgb(0x00, 0x72, 0xB2));
    QVERIFY2(single > 0, "the first series is not painted");
    QVERIFY2(twice > 3 * single && twice < 5 * single, qPrintable(QStringLiteral("%1 vs %2").arg(single).arg(twice)));
    QVERIFY(chart.sizeHint().height() >= 8 * chart.fontMetrics().height());  // grows with the font, not fixed pixels
}

void TestUsageWindow::beforeTheFirstSnapshot_andWhenTheLedgerFails() {
    ui::StatusBoard board;
    ui::StatusWindow window;
    window.render(board.status());
    window.show();
    QCOMPARE(window.usageNote(), "Waiting for the usage ledger…");
    QCOMPARE(window.usage().topLevelItemCount(), 0);
    board.usageFailed(QStringLiteral("cannot open the usage ledger /x/usage.sqlite: disk I/O error"));
    window.render(board.status());
    QCOMPARE(window.usageNote(), "cannot open the usage ledger /x/usage.sqlite: disk I/O error");
}

void TestUsageWindow::app_retentionFromTheConfigPrunesAtStartAndOnReload_andTheWindowShowsARequest() {
    const QString ledgerPath = m_dir.filePath(QStringLiteral("app.sqlite"));
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    constexpr qint64 kDayMs = 24 * kHourMs;
    QCOMPARE(write(ledgerPath, {served(now - 40 * kDayMs, QStringLiteral("old"), QStringLiteral("glm-5")),
                                served(now - 20 * kDayMs, QStringLiteral("middle"), QStringLiteral("glm-5"))}),
             QString());

    MockUpstream upstream;
    upstream.setDefault(anthropicMessage(QStringLiteral("hello"), QStringLiteral("glm-5")));
    const auto config = [&upstream](int retentionDays) {
        return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
            "providers": {"zai": {"type": "anthropic", "baseUrl": "%1", "auth": "client"}},
            "chains": {"main": {"steps": [{"provider": "zai", "model": "glm-5"}]}},
            "activeChain": "main", "ledger": {"retentionDays": %2}})")
            .arg(upstream.baseUrl()).arg(retentionDays).toUtf8();
    };
    const QString configPath = m_dir.filePath(QStringLiteral("config.json"));
    QFile file(configPath);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(config(30));
    file.close();

    ProxyHost::Options options{configPath, false, 0, false, {}};
    LedgerOptions ledger;
    ledger.path = ledgerPath;
    ledger.flushIntervalMs = 20;
    ledger.snapshotIntervalMs = 50;
    options.ledger = ledger;
    ProxyHost host(options);
    QSignalSpy listening(&host, &ProxyHost::listening);
    QSignalSpy snapshots(&host, &ProxyHost::usageSnapshot);
    QCOMPARE(host.start().size(), 0);
    TrayApp app(host, m_dir.filePath(QStringLiteral("tray.ini")));
    app.showStatus();
    QVERIFY(QTest::qWaitFor([&] { return !listening.isEmpty() && !snapshots.isEmpty(); }, 10000));
    QCOMPARE(rowCount(ledgerPath), 1);  // 30 days: the 40-day-old row went when the ledger opened

    http::Headers headers;
    headers.set("x-api-key", "test-client-key");
    headers.set("anthropic-version", "2023-06-01");
    const quint16 port = listening.first().at(1).value<quint16>();
    QCOMPARE(request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers).status, 200);
    const QTreeWidget& usage = app.statusWindow().usage();
    QVERIFY(QTest::qWaitFor([&] {
        return usage.topLevelItemCount() == 2 && child(usage.topLevelItem(0), "zai") != nullptr;
    }, 10000));
    QCOMPARE(child(usage.topLevelItem(0), "zai")->text(1), "1");
    QCOMPARE(app.statusWindow().usageChart().data().count("zai/glm-5", RequestsByHour::kHours - 1), 1);

    QSignalSpy applied(&host, &ProxyHost::configApplied);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(config(5));  // the 20-day-old row is no longer kept
    file.close();
    QVERIFY2(QTest::qWaitFor([&] { return !applied.isEmpty(); }, 10000), "the config change was not picked up");
    QVERIFY(QTest::qWaitFor([&] { return rowCount(ledgerPath) == 1; }, 10000));
    const Ledger reopened(ledgerPath, Ledger::Mode::ReadOnly);
    QCOMPARE(reopened.summary(0, UsageGrouping::Provider).value(0).key, "zai");
}

QTEST_MAIN(TestUsageWindow)
#include "tst_usage_window.moc"
