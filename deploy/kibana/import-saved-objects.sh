#!/bin/sh
# Imports every saved-objects file in this directory into Kibana (docker-compose kibana-init, or by
# hand: KIBANA_URL=http://localhost:5601 sh deploy/kibana/import-saved-objects.sh).
# overwrite=true makes a re-run update the objects in place instead of failing on conflicts.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
url=${KIBANA_URL:-http://localhost:5601}

# Kibana answers /api/status before its saved-objects service is ready; wait for "available".
tries=0
until curl -fsS "$url/api/status" | grep -q '"level":"available"'; do
  tries=$((tries + 1))
  [ "$tries" -ge 60 ] && { echo "kibana at $url not available" >&2; exit 1; }
  sleep 5
done

found=0
for file in "$dir"/*.ndjson; do
  [ -e "$file" ] || continue
  found=1
  echo "importing $(basename "$file")"
  # The API reports per-object errors with HTTP 200, so check its "success" flag too.
  curl -fsS -X POST "$url/api/saved_objects/_import?overwrite=true" \
    -H 'kbn-xsrf: lznews' --form "file=@$file" -o /tmp/import.json
  if ! grep -q '"success":true' /tmp/import.json; then
    cat /tmp/import.json >&2
    exit 1
  fi
done
[ "$found" -eq 1 ] || echo "no saved objects in $dir yet; nothing imported"
