#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs made from the shipped models
# (schemas/ and policies/). The corpora are not committed (fuzz/corpus is
# gitignored); run this before `cargo +nightly fuzz run <target>`.
set -euo pipefail
cd "$(dirname "$0")"
root=..
products=(dataimporter fireworks imagekit imagekit-2020 rudderstack)
mkdir -p corpus/entities corpus/expectations corpus/request_line corpus/product

# selector byte: the product's index (bits 0-2), JSON kind (bit 3)
sel() { printf "\\x$(printf %02x "$1")"; }

for i in "${!products[@]}"; do
  p=${products[$i]}
  dir=$root/policies/$p
  # entities: the fixture as YAML, and a small Cedar JSON file
  { sel "$i"; cat "$dir/fixture.entities.yaml"; } >"corpus/entities/$p-yaml"
  { sel $((i | 8)); printf '[{"uid":{"type":"X::Role","id":"admin"},"attrs":{},"parents":[]},{"uid":{"__entity":{"type":"X::User","id":"u"}},"attrs":{"n":{"__extn":{"fn":"decimal","arg":"1.5"}},"s":[1,2]},"parents":[{"type":"X::Role","id":"admin"}]}]'; } >"corpus/entities/$p-json"
  # expectations: the shipped matrix, and a Cedar test file
  { sel "$i"; cat "$dir/matrix.test.yaml"; } >"corpus/expectations/$p-yaml"
  # requests: one line per fixture user × a few actions (built from the fixture's uids)
  ns=$(grep -o 'namespace [A-Za-z]*' "$root/schemas/$p.cedarschema" | head -1 | cut -d' ' -f2)
  users=$(grep -o "type: $ns::User, id: [a-z0-9-]*" "$dir/fixture.entities.yaml" | sed 's/.*id: //' | sort -u | head -4)
  actions=$(grep -o '^  action [A-Za-z, ]*' "$root/schemas/$p.cedarschema" | sed 's/^  action //; s/,//g' | tr ' ' '\n' | head -4)
  tenant=$(grep -o "type: $ns::\(Account\|Workspace\), id: [a-z0-9-]*" "$dir/fixture.entities.yaml" | head -1 | sed 's/.*type: //; s/, id: /::"/; s/$/"/')
  n=0
  for u in $users; do
    for a in $actions; do
      n=$((n + 1))
      { sel "$i"; printf '{"principal": "%s::User::\\"%s\\"", "action": "%s::Action::\\"%s\\"", "resource": "%s", "context": {"role": "admin"}}' \
          "$ns" "$u" "$ns" "$a" "${tenant//\"/\\\"}"; } >"corpus/request_line/$p-$n"
    done
  done
  { sel "$i"; printf '{"principal": {"type": "%s::User", "id": "x"}, "action": {"__entity": {"type": "%s::Action", "id": "view"}}, "resource": "%s::Account::\\"a\\""}' "$ns" "$ns" "$ns"; } >"corpus/request_line/$p-json-uids"
  # product: schema \0 policies \0 fixture \0 \0 [] \0 matrix
  {
    cat "$root/schemas/$p.cedarschema"; printf '\0'
    cat "$dir"/*.cedar; printf '\0'
    cat "$dir/fixture.entities.yaml"; printf '\0'
    printf '\0'
    printf '[]'; printf '\0'
    cat "$dir/matrix.test.yaml"
  } >"corpus/product/$p"
done

# Cedar test files (JSON) for the expectation loader, from the test fixtures
for f in $root/tests/fixtures/*/policies/*/cedar.test.json; do
  name=$(basename "$(dirname "$(dirname "$(dirname "$f")")")")
  { sel 9; cat "$f"; } >"corpus/expectations/cedar-$name"
done
# small schema-free product (permissive options)
printf 'entity User; action view appliesTo { principal: User, resource: User };\0!permit(principal, action, resource) when { principal has a && principal.a + 1 > 0 };\0- {uid: {type: User, id: a}, attrs: {a: 9223372036854775807}}\0' >corpus/product/overflow
echo "corpus: $(find corpus -type f | wc -l) files"
