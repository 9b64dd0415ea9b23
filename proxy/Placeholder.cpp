// replaced as the proxy grows
