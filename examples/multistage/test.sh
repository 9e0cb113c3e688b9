#!/bin/sh
# Runs the binary and checks its output.
set -eu
bin="$1"
out="$("$bin")"
case "$out" in
  "hello, world (v"*")") ;;
  *) echo "unexpected output: $out" >&2; exit 1 ;;
esac
[ "$("$bin" a b | wc -l)" -eq 2 ] || { echo "expected one line per argument" >&2; exit 1; }
echo "ok"
