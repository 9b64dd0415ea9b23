// translateResponse and translateErrorBody (the response decoders of every dialect): any upstream body,
// translated between every pair of dialects, never crashes; a translation is a JSON object, and so is every
// error body (whatever the upstream sent, the client gets something its SDK parses).

#include "FuzzSupport.h"
#include "dialects/Translation.h"

#include <QJsonDocument>

using namespace understudy;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

static bool isJsonObject(const QByteArray& bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    return error.error == QJsonParseError::NoError && doc.isObject();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char*>(data), qsizetype(size));
    const Dialect dialects[] = {Dialect::AnthropicMessages, Dialect::OpenAIChat, Dialect::OpenAIResponses};
    const int status = 400 + int(fuzz::hashSeed(body) % 200);

    for (Dialect from : dialects)
        for (Dialect to : dialects) {
            if (from != to) {
                const Translated t = translateResponse(from, to, body);
                if (t.error.isEmpty())
                    FUZZ_CHECK(isJsonObject(t.body));
            }
            FUZZ_CHECK(isJsonObject(translateErrorBody(from, to, status, body)));
        }
    return 0;
}
