// EventStreamDecoder and Bedrock's StreamTranscoder: any bytes, in any split, never crash them; the split never
// changes which messages come out or whether (and why) the stream is refused; every decoded message re-encodes
// to exactly the bytes it was read from; the transcoder emits at most one error event, and only as its last.

#include "FuzzSupport.h"
#include "providers/Bedrock.h"
#include "providers/EventStream.h"

using understudy::aws::EventMessage;
using understudy::aws::EventStreamDecoder;

namespace {

struct Decoded {
    QList<EventMessage> messages;
    QString error;
};

Decoded decode(const std::vector<QByteArrayView>& pieces)
{
    EventStreamDecoder decoder;
    Decoded out;
    for (QByteArrayView piece : pieces)
        decoder.feed(piece, out.messages);
    out.error = decoder.error();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char*>(data), qsizetype(size));
    const std::vector<QByteArrayView> pieces = fuzz::split(input, fuzz::hashSeed(input));
    const Decoded whole = decode({input});
    const Decoded split = decode(pieces);

    FUZZ_CHECK(whole.error == split.error);
    FUZZ_CHECK(whole.messages.size() == split.messages.size());
    QByteArray reencoded;
    for (qsizetype i = 0; i < whole.messages.size(); ++i) {
        FUZZ_CHECK(whole.messages[i].headers == split.messages[i].headers);
        FUZZ_CHECK(whole.messages[i].payload == split.messages[i].payload);
        reencoded += understudy::aws::encodeEventMessage(whole.messages[i]);
    }
    FUZZ_CHECK(input.startsWith(reencoded));

    understudy::bedrock::StreamTranscoder transcoder;
    QList<understudy::http::SseEvent> events;
    for (QByteArrayView piece : pieces)
        transcoder.feed(piece, events);
    for (qsizetype i = 0; i < events.size(); ++i) {
        FUZZ_CHECK(!events[i].event.isEmpty());
        FUZZ_CHECK(events[i].event != "error" || i == events.size() - 1);
    }
    return 0;
}
