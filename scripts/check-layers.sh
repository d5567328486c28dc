#!/usr/bin/env bash
# Checks that src/<folder>/ only includes headers of the folders it may use (DESIGN.md "Layers").
# Looks at every `#include "<folder>/..."` line in src/**/*.{h,cc}; exits 1 listing violations.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder -> folders it may include (besides itself)
declare -A allowed=(
  [core]=""
  [metastore]="core"
  [tracking]="metastore core"
  [registry]="tracking metastore core"
  [storage]="core"
  [sql]="storage core"
  [ml]="storage core"
  [automl]="ml tracking registry storage core"
  [serving]="ml registry storage tracking core"
  [server]="*"
  [cli]="*"
)

violations=0
checked=0
for dir in src/*/; do
  folder=$(basename "$dir")
  if [[ -z ${allowed[$folder]+set} ]]; then
    echo "check-layers: src/$folder has no entry in the allowed graph (scripts/check-layers.sh)" >&2
    violations=$((violations + 1))
    continue
  fi
  while IFS= read -r -d '' file; do
    checked=$((checked + 1))
    lineno=0
    while IFS= read -r line; do
      lineno=$((lineno + 1))
      [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([A-Za-z0-9_]+)/ ]] || continue
      target=${BASH_REMATCH[1]}
      [[ $target == "$folder" ]] && continue
      [[ -d src/$target ]] || [[ -n ${allowed[$target]+set} ]] || continue  # not a layer
      [[ ${allowed[$folder]} == "*" ]] && continue
      if [[ " ${allowed[$folder]} " != *" $target "* ]]; then
        echo "check-layers: $file:$lineno: src/$folder may not include $target/ (allowed: ${allowed[$folder]:-nothing})" >&2
        violations=$((violations + 1))
      fi
    done <"$file"
  done < <(find "$dir" -type f \( -name '*.h' -o -name '*.cc' \) -print0)
done

if ((violations)); then
  echo "check-layers: $violations violation(s)" >&2
  exit 1
fi
echo "check-layers: $checked files follow the layer graph"
