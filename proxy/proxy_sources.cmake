# Everything above the wire parsers and the config: sockets, routing, dialect knowledge, telemetry.
set(UNDERSTUDY_PROXY_SOURCES
  Proxy.cpp
  dialects/Dialect.cpp dialects/Translation.cpp dialects/AnthropicMessages.cpp dialects/OpenAIChat.cpp
  dialects/OpenAIResponses.cpp dialects/Errors.cpp dialects/Stream.cpp dialects/ToolIds.cpp dialects/Wire.cpp
  dialects/UsageMeter.cpp
  http/Connection.cpp http/HeadWriter.cpp http/Linger.cpp http/Server.cpp http/Upstream.cpp
  json/JsonScan.cpp json/JsonTree.cpp json/JsonWriter.cpp
  providers/Bedrock.cpp providers/EventStream.cpp providers/SigV4.cpp
  providers/GoogleAuth.cpp providers/Vertex.cpp
  security/Access.cpp security/AccessToken.cpp
  routing/Continuation.cpp routing/Exchange.cpp routing/FailoverPolicy.cpp routing/Health.cpp routing/Route.cpp
  routing/ModelTraits.cpp routing/SpendGuard.cpp
  telemetry/Telemetry.cpp
  telemetry/Ledger.cpp telemetry/Pricing.cpp telemetry/UsageTotals.cpp
  config/Catalog.cpp
  providers/ProviderProbe.cpp)
