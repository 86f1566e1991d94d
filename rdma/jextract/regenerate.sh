#!/bin/sh
# Regenerates io.ostia.rdma.internal.ffm.gen (in src/gen/java, apart from hand-written code) from the installed rdma-core headers.
# Needs an installed jextract (JDK 23+ build, libclang 15): $JEXTRACT, or `jextract` on PATH.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
jextract=${JEXTRACT:-$(command -v jextract || true)}
if [ -z "$jextract" ] || [ ! -x "$jextract" ]; then
  echo "regenerate.sh: no jextract found; set JEXTRACT=/path/to/bin/jextract or put jextract on PATH" >&2
  exit 2
fi
for h in /usr/include/infiniband/verbs.h /usr/include/rdma/rdma_cma.h; do
  [ -r "$h" ] || { echo "regenerate.sh: $h is missing; install libibverbs-dev and librdmacm-dev" >&2; exit 2; }
done
out="$(cd "$here/.." && pwd)/src/gen/java"
rm -rf "$out/io/ostia/rdma/internal/ffm/gen"
"$jextract" @"$here/rdma.args" --output "$out" "$here/rdma.h"
echo "regenerated $(find "$out/io/ostia/rdma/internal/ffm/gen" -name '*.java' | wc -l) files into $out/io/ostia/rdma/internal/ffm/gen"
