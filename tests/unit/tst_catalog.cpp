// The provider catalog (resources/providers.json): every preset parses, is safe to send a key to and names a
// dialect the proxy speaks; every suggested model is priced by resources/prices.json or says why not.
#include "config/Catalog.h"
#include "dialects/Dialect.h"
#include "telemetry/Pricing.h"

#include <QtTest>

using namespace understudy;

class TestCatalog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void builtIn_hasEveryPreset();
    void builtIn_urlsAreHttpsUnlessLocal();
    void builtIn_typesAreDialectsAndAuthMatchesWhatTheProxySends();
    void builtIn_everyModelPricedOrSaysWhyNot();
    void parse_rejects_data();
    void parse_rejects();
};

namespace {

QByteArray catalogWith(const QByteArray& provider) { return R"({"providers": [)" + provider + "]}"; }

const QByteArray kGood = R"({"id": "p", "name": "P", "type": "openai-chat", "baseUrl": "https://p.example/v1",
    "auth": "bearer", "checked": "2026-11-22", "source": "https://p.example/docs", "models": [{"id": "m"}]})";

}  // namespace

void TestCatalog::builtIn_hasEveryPreset() {
    QStringList ids;
    for (const CatalogProvider& p : builtInCatalog())
        ids.append(p.id);
    QCOMPARE(ids, (QStringList{"anthropic", "openai", "openrouter", "deepseek", "moonshot", "zai", "minimax",
                               "dashscope", "mistral", "xai", "groq", "gemini", "ollama", "lmstudio"}));
    QVERIFY(catalogProvider(QStringLiteral("zai")).has_value());
    QCOMPARE(catalogProvider(QStringLiteral("zai"))->baseUrl, QUrl(QStringLiteral("https://api.z.ai/api/anthropic")));
    QVERIFY(!catalogProvider(QStringLiteral("nope")).has_value());
}

void TestCatalog::builtIn_urlsAreHttpsUnlessLocal() {
    for (const CatalogProvider& p : builtInCatalog()) {
        const QString scheme = p.baseUrl.scheme();
        if (p.local) {
            QVERIFY2(p.baseUrl.host() == QLatin1String("localhost"), qPrintable(p.id));
            QCOMPARE(p.auth, AuthStyle::None);
        } else {
            QVERIFY2(scheme == QLatin1String("https"), qPrintable(p.id));
        }
        QVERIFY2(!p.baseUrl.path().endsWith(QLatin1Char('/')), qPrintable(p.id));
        QVERIFY2(p.source.startsWith(QLatin1String("https://")), qPrintable(p.id));
        QVERIFY2(QDate::fromString(p.checked, Qt::ISODate).isValid(), qPrintable(p.id));
    }
}

void TestCatalog::builtIn_typesAreDialectsAndAuthMatchesWhatTheProxySends() {
    for (const CatalogProvider& p : builtInCatalog()) {
        QVERIFY2(dialectOf(p.type).has_value(), qPrintable(p.id));
        // The proxy sends a stored key as x-api-key to Anthropic-dialect providers and as a bearer token to the
        // others (routing/Exchange.cpp), so a preset saying otherwise would not work once picked.
        if (p.auth != AuthStyle::None)
            QCOMPARE(p.auth, p.type == ProviderType::Anthropic ? AuthStyle::ApiKeyHeader : AuthStyle::Bearer);
    }
}

void TestCatalog::builtIn_everyModelPricedOrSaysWhyNot() {
    const Pricing pricing({}, builtInPrices());
    for (const CatalogProvider& p : builtInCatalog()) {
        for (const CatalogModel& m : p.models) {
            const bool priced = pricing.priceOf(m.id).has_value();
            const QString which = p.id + QLatin1Char('/') + m.id;
            QVERIFY2(priced || !m.priceNote.isEmpty(), qPrintable(which + QStringLiteral(": no price and no note")));
            QVERIFY2(!(priced && !m.priceNote.isEmpty()), qPrintable(which + QStringLiteral(": priced, yet a note says not")));
        }
    }
}

void TestCatalog::parse_rejects_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("error");
    QByteArray plain = kGood;
    plain.replace("https://p.example/v1", "http://p.example/v1");
    QTest::newRow("plain http to a remote host") << catalogWith(plain) << "baseUrl must use https";
    QByteArray remoteLocal = kGood;
    remoteLocal.replace(R"("auth": "bearer")", R"("auth": "none", "local": true)");
    QTest::newRow("local but remote") << catalogWith(remoteLocal) << "local must be true exactly when";
    QByteArray type = kGood;
    type.replace("openai-chat", "bedrock");
    QTest::newRow("not a dialect") << catalogWith(type) << "type must be anthropic, openai-chat or openai-responses";
    QByteArray slash = kGood;
    slash.replace("example/v1\"", "example/v1/\"");
    QTest::newRow("trailing slash") << catalogWith(slash) << "without a trailing '/'";
    QByteArray auth = kGood;
    auth.replace(R"("bearer")", R"("basic")");
    QTest::newRow("unknown auth") << catalogWith(auth) << "auth must be x-api-key, bearer or none";
    QByteArray noModels = kGood;
    noModels.replace(R"([{"id": "m"}])", "[]");
    QTest::newRow("no models") << catalogWith(noModels) << "models must list at least one model";
    QByteArray max = kGood;
    max.replace(R"({"id": "m"})", R"({"id": "m", "maxOutputTokens": "lots"})");
    QTest::newRow("max output not a number") << catalogWith(max) << "maxOutputTokens must be a positive number";
    QTest::newRow("same id twice") << catalogWith(kGood + "," + kGood) << "id 'p' is used twice";
}

void TestCatalog::parse_rejects() {
    QFETCH(QByteArray, json);
    QFETCH(QString, error);
    QVERIFY(parseCatalog(catalogWith(kGood)).error.isEmpty());
    const CatalogResult result = parseCatalog(json);
    QVERIFY(result.providers.isEmpty());
    QVERIFY2(result.error.contains(error), qPrintable(result.error));
}

QTEST_GUILESS_MAIN(TestCatalog)
#include "tst_catalog.moc"
