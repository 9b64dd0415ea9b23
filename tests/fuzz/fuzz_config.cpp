// parseConfig: any bytes never crash it; it either returns a config or says what is wrong (with a path), never
// both and never neither.

#include "FuzzSupport.h"
#include "config/Config.h"

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char*>(data), qsizetype(size));
    const understudy::ConfigResult result = understudy::parseConfig(input);
    FUZZ_CHECK(result.config.has_value() == result.problems.isEmpty());
    for (const understudy::ConfigProblem& p : result.problems) {
        FUZZ_CHECK(!p.message.isEmpty());
        FUZZ_CHECK(p.path.startsWith(QLatin1Char('$')));
    }
    return 0;
}
