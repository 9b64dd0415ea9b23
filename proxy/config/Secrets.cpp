#include "config/Secrets.h"
