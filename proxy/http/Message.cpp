#include "http/Message.h"
