set -e
mkdir -p /build
gcc $CFLAGS -o /build/hello /tmp/scripts/compile/hello.c
/build/hello
