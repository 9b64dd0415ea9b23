// translateRequest (the request decoders and encoders of every dialect): any body, translated between every
// pair of dialects with plain and with restrictive target traits, never crashes; it either says why it cannot
// translate or produces a JSON object.

#include "FuzzSupport.h"
#include "dialects/Translation.h"

#include <QJsonDocument>

using namespace understudy;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char*>(data), qsizetype(size));
    const Dialect dialects[] = {Dialect::AnthropicMessages, Dialect::OpenAIChat, Dialect::OpenAIResponses};
    TargetTraits strict;
    strict.maxOutputTokens = 1024;
    strict.acceptsPrefill = false;
    strict.reasoning = true;
    strict.reasoningContent = true;

    for (Dialect from : dialects)
        for (Dialect to : dialects) {
            if (from == to)
                continue;  // same-dialect requests pass through untouched
            for (const TargetTraits& traits : {TargetTraits{}, strict}) {
                const Translated t = translateRequest(from, to, body, QStringLiteral("fuzz-model"), traits);
                if (!t.error.isEmpty())
                    continue;
                QJsonParseError error;
                const QJsonDocument doc = QJsonDocument::fromJson(t.body, &error);
                FUZZ_CHECK(error.error == QJsonParseError::NoError && doc.isObject());
            }
        }
    (void)estimateInputTokens(body);
    return 0;
}
