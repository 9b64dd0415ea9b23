#include "http/ResponseParser.h"
