#!/usr/bin/env bash
# Draws docs/module-map.svg from the imports (`npm run docs:module-map`, needs Graphviz's `dot`):
# one box per folder of src/, an arrow where a folder imports another. config/ and common/ are
# used by nearly every folder, so their arrows are left out for the layers to show.
set -euo pipefail
cd "$(dirname "$0")/.."
npx depcruise src --config .dependency-cruiser.js --include-only '^src/' --collapse '^src/[^/]+' --output-type dot |
  sed -e 's/rankdir="LR"/rankdir="TB"/' -e '/-> "src\/\(config\|common\)"/d' |
  dot -Tsvg -o docs/module-map.svg
