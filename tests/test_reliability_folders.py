"""Adversarial tests of system folders (issue 26 part 5): ``files:`` entries that lead out of the
folder (absolute paths, ``..``, symbolic links), malformed ``policies:`` and other keys, and random
corruptions of copies of the bundled datasets.  Each variant loads, or raises a one-line
SystemDataError naming the file (and field) — never another exception type, and never content
of a file outside the folder in the message."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from gridprox.energy.system import SystemDataError, read_system

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
BUNDLED = sorted(p.name for p in DATASETS.iterdir() if (p / "system.yaml").is_file())
SECRET = "SECRET-FOREIGN-CONTENT"
HOURS = 48                                   # time series trimmed so that each read is fast


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """Files outside any system folder, whose content must never be read into an error."""
    base = tmp_path_factory.mktemp("outside")
    (base / "secret.csv").write_text(f"{SECRET},b\n{SECRET},1\n")
    (base / "secret.yaml").write_text(f"name: {SECRET}\n")
    (base / "dir").mkdir()
    return base


def _copy(name: str, dest: Path) -> Path:
    """A copy of a bundled dataset with its time series cut to HOURS rows."""
    shutil.copytree(DATASETS / name, dest)
    for f in dest.glob("*.csv"):
        lines = f.read_text().splitlines(keepends=True)
        if lines and lines[0].startswith("snapshot"):
            f.write_text("".join(lines[:HOURS + 1]))
    return dest


def _meta(folder: Path) -> dict:
    return yaml.safe_load((folder / "system.yaml").read_text())


def _set_meta(folder: Path, **changes):
    meta = _meta(folder)
    for key, value in changes.items():
        if value is _DROP:
            meta.pop(key, None)
        else:
            meta[key] = value
    (folder / "system.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


_DROP = object()


def _outcome(folder: Path):
    """'ok', or the error message after checking the error's kind and shape."""
    try:
        read_system(folder)
        return "ok"
    except SystemDataError as exc:
        message = str(exc)
    assert "\n" not in message, message
    assert SECRET not in message, message
    assert message.split(":")[0].strip(), message            # the file (or 'system') comes first
    return message


@pytest.mark.parametrize("name", BUNDLED)
def test_trimmed_copies_load(name, tmp_path):
    assert _outcome(_copy(name, tmp_path / name)) == "ok"


# ------------------------------------------------------------------ files: out of the folder
def _escapes(outside: Path):
    """(id, files: value builder (folder -> value), symlink to make or None)."""
    return [
        ("absolute", lambda f: str(outside / "secret.csv"), None),
        ("absolute-etc", lambda f: "/etc/passwd", None),
        ("absolute-dir", lambda f: str(outside / "dir"), None),
        ("dotdot", lambda f: "../secret.csv", None),
        ("dotdot-deep", lambda f: "sub/../../secret.csv", None),
        ("dotdot-many", lambda f: "../" * 12 + "etc/passwd", None),
        ("dotdot-self", lambda f: "./../" + f.name + "/buses.csv", None),     # even back into the folder
        ("symlink-file", lambda f: "link.csv", ("link.csv", outside / "secret.csv")),
        ("symlink-dir", lambda f: "linkdir/secret.csv", ("linkdir", outside)),
        ("symlink-loop", lambda f: "loop.csv", ("loop.csv", "loop.csv")),
        ("nul-byte", lambda f: "bad\0name.csv", None),
        ("empty", lambda f: "", None),
        ("list", lambda f: ["buses.csv"], None),
        ("number", lambda f: 3, None),
        ("mapping", lambda f: {"a": 1}, None),
    ]


ESCAPE_IDS = [e[0] for e in _escapes(Path("/x"))]
TABLES = ["buses", "generators", "demand", "snapshots", "carriers", "availability"]


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("escape", ESCAPE_IDS)
def test_files_must_stay_inside(escape, table, tmp_path, outside):
    folder = _copy("model-energy", tmp_path / "sys")
    _, value, link = next(e for e in _escapes(outside) if e[0] == escape)
    shutil.copy(outside / "secret.csv", tmp_path / "secret.csv")      # what '..' reaches
    if link:
        os.symlink(link[1], folder / link[0])
    _set_meta(folder, files={table: value(folder)})
    message = _outcome(folder)
    assert message != "ok"
    assert message.startswith("system.yaml: column 'files." + table + "'"), message


@pytest.mark.parametrize("table", ["buses", "generators", "demand", "snapshots"])
@pytest.mark.parametrize("target", ["secret.csv", "dir", "/etc/passwd"])
def test_default_table_as_symlink_out(table, target, tmp_path, outside):
    """A table at its default name that is a link out of the folder is refused too."""
    folder = _copy("three-country", tmp_path / "sys")
    (folder / f"{table}.csv").unlink()
    os.symlink(target if target.startswith("/") else outside / target, folder / f"{table}.csv")
    message = _outcome(folder)
    # named as the table's file, or as its files: entry where system.yaml lists it
    assert message.startswith((f"{table}.csv: ", f"system.yaml: column 'files.{table}'")), message
    assert "outside the system folder" in message, message


def test_system_yaml_as_symlink_out(tmp_path, outside):
    folder = _copy("model-energy", tmp_path / "sys")
    (folder / "system.yaml").unlink()
    os.symlink(outside / "secret.yaml", folder / "system.yaml")
    assert "outside the system folder" in _outcome(folder)


def test_links_inside_the_folder_are_fine(tmp_path):
    folder = _copy("model-energy", tmp_path / "sys")
    (folder / "tables").mkdir()
    shutil.move(folder / "buses.csv", folder / "tables" / "nodes.csv")
    os.symlink("generators.csv", folder / "gens.csv")
    _set_meta(folder, files={"buses": "tables/nodes.csv", "generators": "gens.csv"})
    assert _outcome(folder) == "ok"


# ---------------------------------------------------------------------- malformed keys
BAD_META = [
    ("policies", ["co2_cap", 5]), ("policies", "co2_cap: 5"), ("policies", 7), ("policies", 1.5), ("policies", True),
    ("policies", [{"co2_cap": 1}]), ("policies", {"co2_cap": [1, 2]}), ("policies", {"co2_cap": "lots"}),
    ("policies", {"co2_cap": -1}), ("policies", {"co2_cap": float("nan")}), ("policies", {1: 2}),
    ("policies", {"renewable_carriers": "wind"}), ("policies", {"renewable_carriers": [1, [2]]}),
    ("policies", {"nope": 1}), ("policies", {"co2_cap": {"a": 1}}),
    ("files", ["buses.csv"]), ("files", "buses.csv"), ("files", 3), ("files", {"nope": "x.csv"}), ("files", {1: "x"}),
    ("reference", ["a", "b"]), ("reference", "text"), ("reference", 3),
    ("discount_rate", "seven"), ("discount_rate", [0.07]), ("discount_rate", -1), ("voll", {"a": 1}),
    ("voll", float("inf")), ("name", ["a"]), ("name", {"a": 1}), ("name", _DROP), ("currency", ["EUR"]),
    ("description", {"a": 1}), ("snapshots", [1, 2]), ("scenarios", "x"), ("source", [1]), ("unknown_key", 1),
]


@pytest.mark.parametrize("dataset", BUNDLED)
@pytest.mark.parametrize("key,value", BAD_META, ids=[f"{k}-{i}" for i, (k, _) in enumerate(BAD_META)])
def test_malformed_keys(dataset, key, value, tmp_path):
    folder = _copy(dataset, tmp_path / "sys")
    _set_meta(folder, **{key: value})
    message = _outcome(folder)
    assert message != "ok" and message.startswith("system.yaml: "), message
    assert key in message or value is _DROP, message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", "name: [unclosed\n", "a: b: c\n",
                                  "name: x\n\tbad: tab\n", "\xff\xfe garbage", "{", ""])
def test_malformed_yaml(text, tmp_path):
    folder = _copy("model-energy", tmp_path / "sys")
    (folder / "system.yaml").write_bytes(text.encode("latin-1"))
    message = _outcome(folder)
    assert message != "ok" and message.startswith("system.yaml"), message


# ------------------------------------------------------------ random corruptions of copies
def _corrupt(folder: Path, rng: np.random.Generator) -> str:
    """One random corruption of one CSV file of ``folder``; returns what was done."""
    files = sorted(folder.glob("*.csv"))
    f = files[int(rng.integers(len(files)))]
    raw = f.read_bytes()
    lines = raw.decode().splitlines()
    kind = str(rng.choice(["cell-text", "cell-empty", "cell-negative", "cell-huge", "cell-nan", "cell-quote",
                           "truncate", "empty", "garbage", "drop-column", "duplicate-row", "extra-field",
                           "swap-header", "latin1", "drop-line", "nul"]))
    if kind.startswith("cell-") and len(lines) > 1:
        i = int(rng.integers(1, len(lines)))
        cells = lines[i].split(",")
        j = int(rng.integers(len(cells)))
        cells[j] = {"cell-text": "abc", "cell-empty": "", "cell-negative": "-5", "cell-huge": "1e400",
                    "cell-nan": "nan", "cell-quote": '"unclosed'}[kind]
        lines[i] = ",".join(cells)
        f.write_text("\n".join(lines) + "\n")
    elif kind == "truncate":
        f.write_bytes(raw[:int(rng.integers(0, len(raw)))])
    elif kind == "empty":
        f.write_bytes(b"")
    elif kind == "garbage":
        f.write_bytes(rng.bytes(int(rng.integers(1, 2000))))
    elif kind == "drop-column":
        j = int(rng.integers(len(lines[0].split(","))))
        f.write_text("\n".join(",".join(c for k, c in enumerate(ln.split(",")) if k != j) for ln in lines) + "\n")
    elif kind == "duplicate-row" and len(lines) > 1:
        lines.insert(1, lines[1])
        f.write_text("\n".join(lines) + "\n")
    elif kind == "extra-field" and len(lines) > 1:
        lines[-1] += ",1"
        f.write_text("\n".join(lines) + "\n")
    elif kind == "swap-header":
        head = lines[0].split(",")
        rng.shuffle(head)
        lines[0] = ",".join(head)
        f.write_text("\n".join(lines) + "\n")
    elif kind == "latin1":
        f.write_bytes(raw.replace(b",", b"\xe9,", 1))
    elif kind == "drop-line" and len(lines) > 2:
        del lines[int(rng.integers(1, len(lines)))]
        f.write_text("\n".join(lines) + "\n")
    elif kind == "nul":
        f.write_bytes(raw[:len(raw) // 2] + b"\0" + raw[len(raw) // 2:])
    return f"{f.name}:{kind}"


@pytest.mark.parametrize("dataset", BUNDLED)
@pytest.mark.parametrize("seed", range(25))
def test_random_corruption(dataset, seed, tmp_path):
    rng = np.random.default_rng([26, seed, BUNDLED.index(dataset)])
    folder = _copy(dataset, tmp_path / "sys")
    done = [_corrupt(folder, rng) for _ in range(int(rng.integers(1, 3)))]
    message = _outcome(folder)                 # loads, or a one-line SystemDataError
    if message != "ok":
        named = {d.split(":")[0] for d in done} | {"system.yaml", "system"}
        assert message.split(":")[0] in named | {f.name for f in folder.glob("*.csv")}, (done, message)
