#include "http/Headers.h"
