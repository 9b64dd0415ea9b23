#!/usr/bin/env python3
"""Independent reference for a Bedrock-shaped SigV4 request (tests/unit/tst_bedrock.cpp compares the C++ signer
with it). Written from AWS's "Create a signed AWS API request" steps with Python's hashlib/hmac and
urllib.parse.quote only; shares no code with proxy/providers/SigV4.cpp. Run it to regenerate bedrock-invoke.json."""
import hashlib, hmac, json, os, urllib.parse

access_key = "AKIDEXAMPLE"
secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"   # AWS's documented example secret
session_token = "FAKE-SESSION-TOKEN-FOR-UNDERSTUDY-TESTS"
region, service, amz_date = "us-east-1", "bedrock", "20251122T063000Z"
host = "bedrock-runtime.us-east-1.amazonaws.com"
model_id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
body = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"say hi"}]}'

# The path on the wire encodes the model id as one segment (':' -> %3A); the canonical URI of a non-S3 service
# encodes each segment of that wire path once more (%3A -> %253A).
wire_path = "/model/" + urllib.parse.quote(model_id, safe="") + "/invoke-with-response-stream"
canonical_uri = "/".join(urllib.parse.quote(seg, safe="-_.~") for seg in wire_path.split("/"))
headers = {
    "accept": "application/vnd.amazon.eventstream",
    "accept-encoding": "identity",
    "content-type": "application/json",
    "host": host,
    "x-amz-date": amz_date,
    "x-amz-security-token": session_token,
}
signed = ";".join(sorted(headers))
canonical_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
creq = "\n".join(["POST", canonical_uri, "", canonical_headers, signed, hashlib.sha256(body.encode()).hexdigest()])
scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])

def h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()

k = h(h(h(h(("AWS4" + secret_key).encode(), amz_date[:8]), region), service), "aws4_request")
signature = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
authz = f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"

out = {"source": "computed by bedrock_reference.py (Python hashlib/hmac), not by the code under test",
       "accessKeyId": access_key, "secretAccessKey": secret_key, "sessionToken": session_token,
       "region": region, "service": service, "amzDate": amz_date, "host": host, "modelId": model_id,
       "wirePath": wire_path, "headers": {k: v for k, v in headers.items() if k != "host"}, "body": body,
       "creq": creq, "sts": sts, "authz": authz}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bedrock-invoke.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(authz)
