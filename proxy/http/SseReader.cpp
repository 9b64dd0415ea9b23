#include "http/SseReader.h"
