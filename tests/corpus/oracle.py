"""What CPython says about every installed distribution, for tests/env_corpus.rs.

Run with the environment's own interpreter (`python -I oracle.py`): prints one JSON object,
keyed by PEP 503 name, with what importlib.metadata returns for each distribution Python
would use (the first on sys.path for its name):

- name, version: `metadata["Name"]`, `metadata["Version"]`;
- requires_dist: `Distribution.requires` in file order (Requires-Dist, or an egg-info's
  requires.txt), empty values dropped: an empty field declares nothing;
- provides_extra: `metadata.get_all("Provides-Extra")`;
- modules: the top-level importable names its file list installs, each confirmed by
  CPython's own path finder (`PathFinder.find_spec(name, [site-packages])`). The file list
  is RECORD, or installed-files.txt for an egg-info (3.11's importlib reads SOURCES.txt
  there, which lists the source tree, not what was installed). A name counts when a module
  file (`.py`, a sourceless `.pyc` outside `__pycache__`, an extension module) lies at the
  top level or anywhere under a top-level folder whose name is an identifier; a folder of
  data only is not a module anyone imports (packages_distributions() agrees);
- top_level_txt, packages_distributions: what top_level.txt declares and what
  `packages_distributions()` maps to this distribution, for the report only (where they
  differ from `modules`, top_level.txt lies or importlib's inference misses extensions).
"""

import csv
import importlib.machinery
import importlib.metadata as md
import json
import os
import re
import sys

SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES) + (".py",)


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_files(dist):
    """(site-packages folder, absolute paths of the files the installer recorded)."""
    info = os.path.normpath(str(dist._path))
    site = os.path.dirname(info)
    record = dist.read_text("RECORD")
    if record is not None:
        rows = [row[0] for row in csv.reader(record.splitlines()) if row]
        return site, [os.path.normpath(os.path.join(site, p)) for p in rows]
    listed = dist.read_text("installed-files.txt") if os.path.isdir(info) else None
    if listed is not None:
        rows = [line for line in listed.splitlines() if line.strip()]
        return site, [os.path.normpath(os.path.join(info, p)) for p in rows]
    return site, []


def module_name(rel):
    """The top-level module a file (relative to site-packages) makes importable, or None."""
    parts = rel.split(os.sep)
    if parts[0] in ("..", "__pycache__") or "__pycache__" in parts[:-1]:
        return None
    leaf = parts[-1]
    stem = None
    for suffix in SUFFIXES + (".pyc",):
        if leaf.endswith(suffix):
            stem = leaf[: -len(suffix)]
            break
    if stem is None:
        return None
    top = parts[0] if len(parts) > 1 else stem
    return top if top.isidentifier() else None


def modules(dist):
    site, files = installed_files(dist)
    names = set()
    for path in files:
        rel = os.path.relpath(path, site)
        name = module_name(rel)
        if name is None:
            continue
        spec = importlib.machinery.PathFinder.find_spec(name, [site])
        if spec is not None:
            names.add(name)
    return sorted(names)


def main():
    by_dist = {}
    for top, dists in md.packages_distributions().items():
        for name in dists:
            by_dist.setdefault(normalise(name or ""), set()).add(top)
    out = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        key = normalise(name or "")
        if key in out:
            continue
        top_level = dist.read_text("top_level.txt")
        out[key] = {
            "name": name,
            "version": dist.version,
            "metadata_version": dist.metadata["Metadata-Version"],
            "requires_dist": [r for r in (dist.requires or []) if r],
            "provides_extra": dist.metadata.get_all("Provides-Extra") or [],
            "modules": modules(dist),
            "top_level_txt": None if top_level is None else sorted(set(top_level.split())),
            "packages_distributions": sorted(by_dist.get(key, ())),
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


main()
