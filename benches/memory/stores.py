#!/usr/bin/env python3
"""Inputs for the memory figures of BENCHMARKS.md (section 6).

    benches/memory/stores.py check OUT       # OUT/pass and OUT/fail: fireworks with
                                             # 1,000 more users and 1,000 more models
    benches/memory/stores.py lines N MB      # N request lines of about MB megabytes
                                             # each (on stdout)

Run from the repository's root.
"""
import pathlib
import shutil
import sys


def check_stores(out: pathlib.Path) -> None:
    for name in ("pass", "fail"):
        root = out / name
        shutil.rmtree(root, ignore_errors=True)
        (root / "schemas").mkdir(parents=True)
        shutil.copy("schemas/fireworks.cedarschema", root / "schemas")
        shutil.copytree("policies/fireworks", root / "policies/fireworks")
        product = root / "policies/fireworks"
        entities = []
        for i in range(1000):
            entities.append(
                f"- uid: {{type: Fireworks::User, id: u{i}}}\n"
                f"  attrs: {{account: {{type: Fireworks::Account, id: acme}}}}\n"
                f"  parents: [{{type: Fireworks::Role, id: user}}, {{type: Fireworks::Account, id: acme}}]\n"
            )
        for i in range(1000):
            entities.append(
                f"- uid: {{type: Fireworks::Model, id: m{i}}}\n"
                f"  attrs: {{owner: {{type: Fireworks::User, id: u{i}}}}}\n"
                f"  parents: [{{type: Fireworks::Account, id: acme}}]\n"
            )
        (product / "wide.entities.yaml").write_text("".join(entities))
        # the two rows about uma's own key expect every `user` to own it: drop them
        matrix = product / "matrix.test.yaml"
        rows = matrix.read_text().split("\n  - ")
        kept = [row for row in rows if 'resource: ApiKey::"key-uma"' not in row]
        matrix.write_text("\n  - ".join(kept))
        if name == "fail":
            # a million requests expecting deny where the policies allow
            (product / "wide.test.yaml").write_text(
                "matrix:\n  - action: view\n    resource: Model\n    allow: [admin]\n"
            )


def request_lines(n: int, megabytes: float) -> None:
    pad = "x" * int(megabytes * 1_000_000)
    line = (
        '{"principal": "ImageKit::User::\\"ada-admin\\"", '
        '"action": "ImageKit::Action::\\"addUser\\"", '
        '"resource": "ImageKit::Account::\\"acme\\"", '
        '"context": {"role": "' + pad + '"}}\n'
    )
    for _ in range(n):
        sys.stdout.write(line)


if __name__ == "__main__":
    if sys.argv[1:2] == ["check"] and len(sys.argv) == 3:
        check_stores(pathlib.Path(sys.argv[2]))
    elif sys.argv[1:2] == ["lines"] and len(sys.argv) == 4:
        request_lines(int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit(__doc__)
