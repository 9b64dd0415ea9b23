// The stream decoders and encoders of every dialect: any SSE bytes from an upstream, read as events and fed
// through the stream transcoder for every pair of dialects, then finished, never crash; every event the
// client gets carries JSON (or Chat's "[DONE]"). The bare decoders get the same events.

#include "FuzzSupport.h"
#include "dialects/Dialect.h"
#include "dialects/Translation.h"

#include <QJsonDocument>

using namespace understudy;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

static void checkClientBytes(const QByteArray& bytes)
{
    if (bytes.isEmpty())
        return;
    http::SseReader reader;
    QList<http::SseEvent> events;
    reader.feed(bytes, events);
    FUZZ_CHECK(reader.pendingBytes() == 0);  // whole events only
    for (const http::SseEvent& e : events) {
        if (e.data == "[DONE]")
            continue;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(e.data, &error);
        if (error.error != QJsonParseError::NoError || !doc.isObject()) {
            std::fprintf(stderr, "client event is not JSON: %s\n", e.raw.constData());
            FUZZ_CHECK(false);
        }
    }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char*>(data), qsizetype(size));
    http::SseReader reader;
    QList<http::SseEvent> events;
    reader.feed(input, events);

    const Dialect dialects[] = {Dialect::AnthropicMessages, Dialect::OpenAIChat, Dialect::OpenAIResponses};
    for (Dialect from : dialects) {
        for (Dialect to : dialects) {
            if (from == to)
                continue;
            std::unique_ptr<StreamTranscoder> transcoder = makeStreamTranscoder(from, to);
            FUZZ_CHECK(transcoder);
            for (const http::SseEvent& e : events)
                checkClientBytes(transcoder->feed(e));
            checkClientBytes(transcoder->finish());
        }
        std::unique_ptr<canonical::StreamDecoder> decoder = makeStreamDecoder(from);
        FUZZ_CHECK(decoder);
        QList<canonical::StreamEvent> out;
        for (const http::SseEvent& e : events)
            decoder->feed(e, out);
        decoder->finish(out);
        for (const http::SseEvent& e : events) {
            (void)classifyStreamEvent(from, e, false);
            (void)classifyStreamEvent(from, e, true);
        }
    }
    return 0;
}
