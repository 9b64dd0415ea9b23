set(UNDERSTUDY_PROXY_SOURCES Placeholder.cpp)
