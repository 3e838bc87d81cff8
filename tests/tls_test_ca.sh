#!/usr/bin/env bash
# Makes a throwaway PKI for TLS tests: a CA, a server certificate for
# localhost / 127.0.0.1 / ::1 and a client certificate, all signed by that CA,
# all with EC P-256 keys (fast to generate, unlike RSA). Valid for two days.
#
# Usage: tls_test_ca.sh DIR [NAME]
#   Writes into DIR (created if missing):
#     ca.pem ca.key           the CA (CN "NAME CA")
#     server.pem server.key   CN localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1, serverAuth
#     client.pem client.key   CN "NAME client", clientAuth
#   NAME (default "sluice test") tells apart two CAs made for one test.
#
# Keys are unencrypted PKCS#8 PEM. The script uses its own minimal openssl
# config, so the host's openssl.cnf (its default extensions) does not matter.

set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 DIR [NAME]" >&2
  exit 2
fi
dir=$1
name=${2:-sluice test}
mkdir -p "$dir"
cd "$dir"

cat >openssl.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
export OPENSSL_CONF=$PWD/openssl.cnf

# req -x509 with -CA (OpenSSL >= 3.0) makes and signs each certificate in one
# command; -set_serial keeps the runs independent of a serial file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout ca.key \
  -subj "/O=sluice/CN=$name CA" -days 2 -sha256 -extensions ca_ext -out ca.pem 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout server.key \
  -subj "/O=sluice/CN=localhost" -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 -sha256 \
  -extensions server_ext -out server.pem 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout client.key \
  -subj "/O=sluice/CN=$name client" -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 -sha256 \
  -extensions client_ext -out client.pem 2>/dev/null
rm -f openssl.cnf
