#!/usr/bin/env bash
# check-layers.sh — fails when a file in src/ includes a folder its own folder may not
# depend on. The folders follow the include graph (docs/ARCHITECTURE.md, "Layers"):
#
#   core <- store, http, auth <- rtc <- media <- conf, rtm, pubsub, delivery <- api <- parleyd.c, tools
#   core, store, http, auth <- cluster <- api
#   core, store, http <- policy <- api
#   core, http <- client <- tools (the parley CLI; never the server)
#
# An arrow points from what is used to its user. Beside the chain: auth reads accounts
# from the store; rtm and pubsub hand recordings and webhooks to delivery; delivery uses http's
# client and the store's job table. conf never reaches http (the API layer translates),
# rtm never reaches conf, and nothing below api knows about api. cluster (membership,
# leases, configuration on Redis) sits beside conf: it never reaches media, conf or api;
# parleyd.c hands it the conference's callbacks. policy (the external policy server's
# client) sits there too: it reads answers into store records, asks over http's client,
# and never reaches conf; the API layer applies what it says.
# Usage: scripts/check-layers.sh [ROOT]   (prints each offending line; exit 1 if any)
set -euo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}

# What each folder may include besides itself.
declare -A ALLOWED=(
  [core]=""
  [store]="core"
  [http]="core"
  [auth]="core store"
  [rtc]="core"
  [media]="core rtc"
  [conf]="core store auth rtc media"
  [rtm]="core store auth rtc media delivery"
  [pubsub]="core store auth rtc media delivery"
  [delivery]="core store http"
  [cluster]="core store http auth"
  [policy]="core store http"
  [api]="core store http auth rtc media conf rtm pubsub delivery cluster policy"
  [client]="core http"
)

bad=0
check_file() { # file folder
  local file=$1 folder=$2 line target
  while IFS= read -r line; do
    target=${line#*\"}
    target=${target%%/*}
    [ "$target" = "$folder" ] && continue
    case " ${ALLOWED[$folder]} " in
    *" $target "*) ;;
    *)
      echo "${file#"$ROOT"/}: $folder may not include \"${line#*\"}" >&2
      bad=1
      ;;
    esac
  done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[a-z_]+/' "$file" || true)
}

for dir in "$ROOT"/src/*/; do
  folder=$(basename "$dir")
  if [ -z "${ALLOWED[$folder]+set}" ]; then
    echo "src/$folder: a folder the layer check does not know; add it to scripts/check-layers.sh" >&2
    bad=1
    continue
  fi
  for file in "$dir"*.[ch]; do
    [ -e "$file" ] && check_file "$file" "$folder"
  done
done
if [ $bad = 0 ]; then
  echo "layers: ok (${#ALLOWED[@]} folders)"
fi
exit $bad
