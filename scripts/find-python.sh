#!/usr/bin/env bash
# Print the path of a working interpreter for the Python version given as $1 (e.g. 3.10).
# A pyenv shim can exist on PATH yet refuse to run, so every candidate is executed.
set -u
want="$1"
candidates=("python$want" "$HOME/.pyenv/versions/$want"*/bin/"python$want" "/usr/bin/python$want" "/usr/local/bin/python$want")
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.|$)"); do
    candidates+=("$(pyenv root)/versions/$v/bin/python$want")
  done
fi
for c in "${candidates[@]}"; do
  if out=$("$c" -c 'import sys; print(sys.executable, "%d.%d" % sys.version_info[:2])' 2>/dev/null); then
    exe=${out% *}; ver=${out##* }
    if [ "$ver" = "$want" ]; then echo "$exe"; exit 0; fi
  fi
done
echo "error: no working python$want found (tried PATH, pyenv and /usr/bin). Install Python $want (e.g. 'pyenv install $want') and rerun." >&2
exit 1
