// EventStreamDecoder and Bedrock's StreamTranscoder: any bytes, in any split, never crash them; the split never
// changes which messages come out or whether (and why) the stream is refused; every decoded message re-encodes
// to exactly the bytes it was read from; the transcoder emits at most one error event, and only as its last.
// The input is also read as one frame with its length and both CRCs made right, so that mutations reach the
// header and payload decoding behind the CRC checks.

#include "FuzzSupport.h"
#include "providers/Bedrock.h"
#include "providers/EventStream.h"

#include <QtEndian>

#include <zlib.h>

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

// `input` as one frame: total length and both CRCs rewritten to match (the headers length is kept).
QByteArray withValidCrcs(QByteArrayView input)
{
    QByteArray frame = input.toByteArray();
    if (frame.size() < 16)
        return {};
    qToBigEndian<quint32>(quint32(frame.size()), frame.data());
    qToBigEndian<quint32>(quint32(crc32(0, reinterpret_cast<const Bytef*>(frame.constData()), 8)), frame.data() + 8);
    const qsizetype end = frame.size() - 4;
    qToBigEndian<quint32>(quint32(crc32(0, reinterpret_cast<const Bytef*>(frame.constData()), uInt(end))),
                          frame.data() + end);
    return frame;
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

    const QByteArray frame = withValidCrcs(input);
    const Decoded repaired = decode({frame});
    if (repaired.error.isEmpty() && frame.size() <= qsizetype(EventStreamDecoder::kMaxMessageBytes)) {
        FUZZ_CHECK(repaired.messages.size() == (frame.isEmpty() ? 0 : 1));
        if (!frame.isEmpty())
            FUZZ_CHECK(understudy::aws::encodeEventMessage(repaired.messages[0]) == frame);
    }

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
