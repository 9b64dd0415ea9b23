#include "http/RequestParser.h"
