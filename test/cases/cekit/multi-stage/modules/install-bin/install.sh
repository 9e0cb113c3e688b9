install -m 0755 /tmp/artifacts/tool /usr/local/bin/tool
