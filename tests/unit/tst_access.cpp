// Who may use the proxy (DESIGN.md §5): the user's own programs, not web pages.
#include "security/Access.h"

#include <QtTest>

using namespace understudy;

namespace {

http::Request modelRequest(std::initializer_list<std::pair<const char*, const char*>> headers) {
    http::Request r;
    r.method = "POST";
    r.path = r.target = "/v1/messages";
    for (const auto& [name, value] : headers)
        r.headers.add(name, value);
    return r;
}

}  // namespace

class TestAccess : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void loopbackHosts_data() {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<bool>("loopback");
        QTest::newRow("ipv4 with port") << QByteArray("127.0.0.1:8790") << true;
        QTest::newRow("other 127/8") << QByteArray("127.1.2.3") << true;
        QTest::newRow("localhost") << QByteArray("localhost:8790") << true;
        QTest::newRow("LOCALHOST") << QByteArray("LOCALHOST") << true;
        QTest::newRow("sub.localhost") << QByteArray("app.localhost:1") << true;
        QTest::newRow("ipv6") << QByteArray("[::1]:8790") << true;
        QTest::newRow("rebinding name") << QByteArray("attacker.example:8790") << false;
        QTest::newRow("localhost lookalike") << QByteArray("localhost.attacker.example") << false;
        QTest::newRow("lan address") << QByteArray("192.168.1.20:8790") << false;
        QTest::newRow("empty") << QByteArray() << false;
    }
    void loopbackHosts() {
        QFETCH(QByteArray, host);
        QFETCH(bool, loopback);
        QCOMPARE(isLoopbackHost(host), loopback);
    }

    void sdkRequestsFromNodeAreAllowed() {
        // @anthropic-ai/sdk through node's fetch: sec-fetch-mode: cors, no Origin, no Sec-Fetch-Site.
        const auto r = modelRequest({{"host", "127.0.0.1:8790"}, {"content-type", "application/json"},
                                     {"sec-fetch-mode", "cors"}, {"authorization", "Bearer x"}});
        QVERIFY(!checkAccess(r, true, true));
    }

    void foreignHostRefused() {
        const auto refusal = checkAccess(modelRequest({{"host", "rebind.example:8790"}}), true, true);
        QVERIFY(refusal);
        QCOMPARE(refusal->status, 403);
        QVERIFY(refusal->message.contains("DNS rebinding"));
        // Listening on a LAN address (a team box), the Host is that box's name.
        QVERIFY(!checkAccess(modelRequest({{"host", "team-box:8790"}}), false, true));
    }

    void webPagesRefused_data() {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("origin") << QByteArray("Origin") << QByteArray("https://evil.example");
        QTest::newRow("null origin") << QByteArray("Origin") << QByteArray("null");
        QTest::newRow("cross-site fetch") << QByteArray("Sec-Fetch-Site") << QByteArray("cross-site");
        QTest::newRow("same-site fetch") << QByteArray("Sec-Fetch-Site") << QByteArray("same-site");
    }
    void webPagesRefused() {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, value);
        auto r = modelRequest({{"host", "127.0.0.1"}, {"content-type", "application/json"}});
        r.headers.add(name, value);
        const auto refusal = checkAccess(r, true, true);
        QVERIFY(refusal);
        QCOMPARE(refusal->status, 403);
    }

    void userTypedNavigationAllowed() {
        auto r = modelRequest({{"host", "127.0.0.1"}, {"sec-fetch-site", "none"}});
        r.method = "GET";
        r.path = "/status";
        QVERIFY(!checkAccess(r, true, false));
    }

    void preflightRefused() {
        auto r = modelRequest({{"host", "127.0.0.1"}});
        r.method = "OPTIONS";
        QCOMPARE(checkAccess(r, true, true)->status, 403);
    }

    void simpleRequestBodiesRefused() {
        for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
            const auto refusal = checkAccess(modelRequest({{"host", "127.0.0.1"}, {"content-type", type}}), true, true);
            QVERIFY2(refusal && refusal->status == 415, type);
        }
        QVERIFY(!checkAccess(modelRequest({{"host", "127.0.0.1"}, {"content-type", "application/json; charset=utf-8"}}),
                             true, true));
    }
};

QTEST_GUILESS_MAIN(TestAccess)
#include "tst_access.moc"
