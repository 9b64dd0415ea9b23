// The event log line (DESIGN §4: one JSON object a line). Written by hand for speed, so it is checked here against
// Qt's own JSON parser for every kind of text an event can carry: escapes, control characters, non-ASCII, emoji
// and a lone surrogate.
#include "telemetry/Telemetry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

using namespace understudy;

class TestTelemetry : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void line_isExactForAPlainEvent() {
        ProxyEvent e{QStringLiteral("request"), 1763793600007, {{QStringLiteral("status"), 200},
                                                               {QStringLiteral("model"), QStringLiteral("glm-5")}}};
        QCOMPARE(e.toJsonLine(),
                 QByteArray("{\"type\":\"request\",\"time\":\"2025-11-22T06:40:00.007Z\",\"status\":200,\"model\":\"glm-5\"}\n"));
    }

    void line_roundTripsEveryKindOfText_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("plain") << QStringLiteral("primary/claude-opus-4-1: 429 rate limited");
        QTest::newRow("quotes and backslashes") << QStringLiteral("say \"hi\" \\ C:\\path\\");
        QTest::newRow("control characters") << QString::fromUtf16(u"tab\tnewline\nnul\u0001bell\u0007\u001f");
        QTest::newRow("two-byte UTF-8") << QStringLiteral("café, naïve, Ωmega");
        QTest::newRow("three-byte UTF-8") << QString::fromUtf16(u"模型 \u20ac \uffff");
        QTest::newRow("surrogate pair") << QString::fromUtf16(u"stream cut \U0001F4A5 at \U0001F600");
        QTest::newRow("empty") << QString();
        QTest::newRow("long") << QString(5000, QLatin1Char('x')) + QString::fromUtf16(u"\u00e9\"");
    }

    void line_roundTripsEveryKindOfText() {
        QFETCH(QString, text);
        const QJsonArray attempts{text, QJsonObject{{QStringLiteral("reason"), text}, {QStringLiteral("n"), 3}}};
        ProxyEvent e{QStringLiteral("failover"), 1763793600123,
                     {{QStringLiteral("reason"), text}, {text.isEmpty() ? QStringLiteral("k") : text, 1.5},
                      {QStringLiteral("attempts"), attempts}, {QStringLiteral("ok"), true}}};
        const QByteArray line = e.toJsonLine();
        QVERIFY(line.endsWith('\n'));
        QCOMPARE(line.count('\n'), 1);  // one event, one line, whatever the text holds
        QJsonParseError error;
        const QJsonObject o = QJsonDocument::fromJson(line, &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(o.value("reason").toString(), text);
        QCOMPARE(o.value(text.isEmpty() ? QStringLiteral("k") : text).toDouble(), 1.5);
        QCOMPARE(o.value("attempts").toArray(), attempts);
        QCOMPARE(o.value("ok").toBool(), true);
        QCOMPARE(o.value("time").toString(), QStringLiteral("2025-11-22T06:40:00.123Z"));
    }

    void line_replacesALoneSurrogate() {
        const QString broken = QStringLiteral("a") + QChar(0xD800) + QStringLiteral("b");
        ProxyEvent e{QStringLiteral("request"), 1, {{QStringLiteral("reason"), broken}}};
        const QJsonObject o = QJsonDocument::fromJson(e.toJsonLine()).object();
        QCOMPARE(o.value("reason").toString(), QString::fromUtf16(u"a\ufffdb"));
    }

    void line_timeHasMillisecondsAcrossSeconds() {
        for (const qint64 ms : {qint64(0), qint64(999), qint64(1000), qint64(1763793659999)}) {
            const QJsonObject o = QJsonDocument::fromJson(ProxyEvent{QStringLiteral("x"), ms, {}}.toJsonLine()).object();
            const QDateTime t = QDateTime::fromString(o.value("time").toString(), Qt::ISODateWithMs);
            QVERIFY2(t.isValid(), qPrintable(o.value("time").toString()));
            QCOMPARE(t.toMSecsSinceEpoch(), ms == 0 ? qint64(0) : ms);
        }
    }

    // The ledger takes usage in batches (one queued signal per request stalled the proxy thread): every record
    // arrives, in order, within a batch interval, and the last batch is handed over when telemetry goes away.
    void usage_arrivesInBatches_andTheLastOneAtTheEnd() {
        QList<QList<UsageRecord>> batches;
        int single = 0;
        {
            Telemetry telemetry;
            QObject::connect(&telemetry, &Telemetry::usageBatch, [&](const QList<UsageRecord>& b) { batches.append(b); });
            QObject::connect(&telemetry, &Telemetry::usageRecorded, [&](const UsageRecord&) { ++single; });
            for (int i = 0; i < 3; ++i) {
                UsageRecord r;
                r.timeMs = i;
                telemetry.recordUsage(r);
            }
            QCOMPARE(single, 3);         // each record at once, for in-thread listeners
            QVERIFY(batches.isEmpty());  // but not one signal each across threads
            QTRY_COMPARE_WITH_TIMEOUT(batches.size(), 1, 2000);
            QCOMPARE(batches.first().size(), 3);
            QCOMPARE(batches.first().at(2).timeMs, 2);
            UsageRecord last;
            last.timeMs = 99;
            telemetry.recordUsage(last);
        }
        QCOMPARE(batches.size(), 2);
        QCOMPARE(batches.last().size(), 1);
        QCOMPARE(batches.last().first().timeMs, 99);
    }

    // Redaction by construction: whatever a future field carries, a value under a credential's name never reaches
    // the log, at the top level or nested; names that only contain "key" or "token" somewhere else stay.
    void line_redactsValuesNamedLikeCredentials() {
        const QString secret = QStringLiteral("sk-ant-fake-telemetry-0123456789");
        ProxyEvent e{QStringLiteral("config"), 1700000000000,
                     {{QStringLiteral("apiKey"), secret},
                      {QStringLiteral("x-api-key"), secret},
                      {QStringLiteral("keychain"), QJsonArray{QStringLiteral("entry 'zai' is missing")}},
                      {QStringLiteral("provider"), QJsonObject{{QStringLiteral("accessToken"), secret},
                                                              {QStringLiteral("id"), QStringLiteral("zai")}}},
                      {QStringLiteral("inputTokens"), 12}}};
        const QByteArray line = e.toJsonLine();
        QVERIFY2(!line.contains(secret.toUtf8()), line.constData());
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        QCOMPARE(o["apiKey"].toString(), QStringLiteral("[redacted]"));
        QCOMPARE(o["x-api-key"].toString(), QStringLiteral("[redacted]"));
        QCOMPARE(o["provider"].toObject()["accessToken"].toString(), QStringLiteral("[redacted]"));
        QCOMPARE(o["provider"].toObject()["id"].toString(), QStringLiteral("zai"));
        QCOMPARE(o["keychain"].toArray().first().toString(), QStringLiteral("entry 'zai' is missing"));
        QCOMPARE(o["inputTokens"].toInt(), 12);  // counts of tokens are figures, not credentials
    }

    void secretNames() {
        for (const char* name : {"apiKey", "x-api-key", "API_KEY", "accessToken", "authorization", "secretAccessKey",
                                 "sessionToken", "password", "Cookie", "x-understudy-token"})
            QVERIFY2(isSecretName(QString::fromLatin1(name)), name);
        for (const char* name : {"keychain", "servedBy", "reason", "tokens", "inputTokens", "chain", "status", ""})
            QVERIFY2(!isSecretName(QString::fromLatin1(name)), name);
    }
};

QTEST_GUILESS_MAIN(TestTelemetry)
#include "tst_telemetry.moc"
