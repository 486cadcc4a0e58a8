#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the project's fixtures of the right kind. Run once (it is
# how the committed corpus started); `scripts/fuzz --update-corpus` keeps it minimal after.
# Each seed is the target's mode byte (see the target's doc comment) followed by the file.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus
seed() { # target mode-byte-hex-or-empty file
  local dir="$out/$1" name
  mkdir -p "$dir"
  name=$(printf '%s' "$2$3" | sha1sum | cut -c1-16)
  if [ -n "$2" ]; then printf "\\x$2" >"$dir/$name"; else : >"$dir/$name"; fi
  cat "$3" >>"$dir/$name"
}
while IFS= read -r f; do seed source_imports 00 "$f"; done < <(find fixtures examples -type f \( -name '*.py' -o -name '*.pyi' \) -size -64k | grep -v finder)
while IFS= read -r f; do seed source_imports 01 "$f"; done < <(find fixtures examples -type f -name '*.ipynb')
while IFS= read -r f; do seed metadata 00 "$f"; done < <(find fixtures -type f -name METADATA)
while IFS= read -r f; do seed metadata 01 "$f"; done < <(find fixtures -type f -name entry_points.txt)
while IFS= read -r f; do seed metadata 02 "$f"; done < <(find fixtures -type f -name PKG-INFO)
while IFS= read -r f; do seed metadata 03 "$f"; done < <(find fixtures -type f -name requires.txt)
while IFS= read -r f; do seed record 00 "$f"; done < <(find fixtures -type f -name RECORD)
while IFS= read -r f; do seed record 01 "$f"; done < <(find fixtures -type f -name installed-files.txt)
while IFS= read -r f; do seed pth 00 "$f"; done < <(find fixtures -type f -name '*.pth')
while IFS= read -r f; do seed pth 01 "$f"; done < <(find fixtures -type f -name '__editable__*_finder.py')
while IFS= read -r f; do seed direct_url "" "$f"; done < <(find fixtures -type f -name direct_url.json)
while IFS= read -r f; do seed pyvenv_cfg "" "$f"; done < <(find fixtures -type f -name pyvenv.cfg)
while IFS= read -r f; do seed conda_meta "" "$f"; done < <(find fixtures -type f -path '*conda-meta/*.json')
while IFS= read -r f; do seed pyproject_config "" "$f"; done < <(find fixtures examples -type f -name pyproject.toml)
while IFS= read -r f; do seed lock_reader 00 "$f"; done < <(find fuzz/seeds -type f -name '*.toml')
while IFS= read -r f; do seed dockerfile 00 "$f"; done < <(find fuzz/seeds -type f -name '*.plan.json')
# Index pages: `Content-Type\nproject\nbody`.
idx=fixtures/index-responses
page() { # content-type project file
  local dir="$out/simple_index" name
  mkdir -p "$dir"
  name=$(printf '%s' "$3" | sha1sum | cut -c1-16)
  { printf '%s\n%s\n' "$1" "$2"; cat "$3"; } >"$dir/$name"
}
page application/vnd.pypi.simple.v1+json requests $idx/requests.pep691.json
page application/vnd.pypi.simple.v1+json numpy $idx/numpy.pep691.json
page application/vnd.pypi.simple.v1+json numpy $idx/numpy.mirror-relative.pep691.json
page text/html requests $idx/requests.pep503.html
page text/html requests $idx/login.html
