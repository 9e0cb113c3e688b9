set -e
install -m 0755 /tmp/artifacts/hello /usr/local/bin/hello
