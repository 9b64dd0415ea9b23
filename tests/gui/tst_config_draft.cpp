// What the Settings dialog writes: only the members it changed, in the file's own order, keeping every key
// it has no field for.
#include "ConfigDraft.h"
#include "ProblemPlace.h"

#include <QtTest>

using namespace understudy;
using namespace understudy::ui;

class TestConfigDraft : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void unchanged_writesTheSameBytes() {
        const QByteArray document = defaultConfigJson();
        const std::optional<ConfigDraft> draft = ConfigDraft::fromDocument(document);
        QVERIFY(draft);
        QCOMPARE(draft->appliedTo(document, *draft), document);
    }

    void aChange_rewritesOnlyItsMember_andKeepsProviderOrderAndUnknownKeys() {
        const QByteArray document = R"({"version":1,"providers":{"zeta":{"type":"anthropic","baseUrl":"https://z.example","auth":"client","prefill":false},"alpha":{"type":"openai-chat","baseUrl":"https://a.example","apiKey":"env:A_KEY"}},"chains":{"c":{"steps":[{"provider":"zeta"},{"provider":"alpha","model":{"b*":"x","*":"y"},"prefill":false}]}},"activeChain":"c","pricing":{"x":{"input":1,"output":2}}})";
        std::optional<ConfigDraft> draft = ConfigDraft::fromDocument(document);
        QVERIFY(draft);
        const ConfigDraft baseline = *draft;
        QCOMPARE(draft->providers.first().id, "zeta");
        draft->chains.first().steps.move(1, 0);
        const QByteArray written = draft->appliedTo(document, baseline);
        QVERIFY2(written.contains(R"("providers":{"zeta":{"type":"anthropic")"), written.constData());  // untouched
        QVERIFY2(written.contains(R"({ "provider": "alpha", "model": { "b*": "x", "*": "y" }, "prefill": false })"),
                 written.constData());
        QVERIFY(written.endsWith(R"("activeChain":"c","pricing":{"x":{"input":1,"output":2}}})"));
        const ConfigResult parsed = parseConfig(written);
        QVERIFY(parsed.config);
        QCOMPARE(parsed.config->chains.value("c").steps.first().provider, "alpha");
        QCOMPARE(parsed.config->chains.value("c").steps.first().model.globs.first().first, "b*");
    }

    void aMemberTheFileLacks_isAdded() {
        const QByteArray document = R"({"version":1,"providers":{"p":{"type":"anthropic","baseUrl":"https://p.example","auth":"client"}},"chains":{"c":{"steps":[{"provider":"p"}]}},"activeChain":"c"})";
        std::optional<ConfigDraft> draft = ConfigDraft::fromDocument(document);
        QVERIFY(draft);
        const ConfigDraft baseline = *draft;
        draft->failover.insert(QStringLiteral("connectTimeoutMs"), 2500);
        const QByteArray written = draft->appliedTo(document, baseline);
        const ConfigResult parsed = parseConfig(written);
        QVERIFY2(parsed.problems.isEmpty(), written.constData());
        QVERIFY(parsed.config);
        QCOMPARE(parsed.config->failover.connectTimeoutMs, 2500);
    }

    void problems_arePlacedOnTheirField() {
        const std::optional<ConfigDraft> draft = ConfigDraft::fromDocument(defaultConfigJson());
        QVERIFY(draft);
        const auto place = [&](const char* path) { return placeProblem({QString::fromLatin1(path), {}}, *draft); };
        QCOMPARE(place("$.providers.anthropic.baseUrl").field, "baseUrl");
        QCOMPARE(place("$.providers.anthropic.baseUrl").item, "anthropic");
        QCOMPARE(place("$.chains.default.steps[0].provider").step, 0);
        QCOMPARE(place("$.chains.default.steps[0].model[\"claude-*\"]").field, "model");
        QCOMPARE(place("$.chains.default.steps").field, "steps");
        QCOMPARE(place("$.chains.default.steps").step, -1);
        QCOMPARE(place("$.failover.triggerOnStatusCodes[1]").field, "triggerOnStatusCodes");
        QCOMPARE(place("$.failover.triggerOnStatusCodes[1]").page, ProblemPlace::Page::Failover);
        QCOMPARE(place("$.listen.port").field, "port");
        QCOMPARE(place("$.activeChain").page, ProblemPlace::Page::Chains);
    }
};

QTEST_MAIN(TestConfigDraft)
#include "tst_config_draft.moc"
