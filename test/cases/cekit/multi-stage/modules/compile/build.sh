mkdir -p /build && gcc -o /build/tool /tmp/scripts/compile/tool.c
