"""The runtime oracle envscan's lock is checked against on real projects (issue 8 point 4-5).

It is independent of envscan: CPython's own import system decides what a project needs.

    python oracle.py imports PROJECT OUT.json
        Run with the project's venv interpreter, in the project folder. Imports every Python
        file of the project (package modules, tests, conftest, docs and examples; only setup.py
        is left out, since running it builds the project) the way pytest's default `prepend`
        import mode does, records each failure instead of stopping, then writes every module
        that appeared in sys.modules with the file it was loaded from and the module whose
        code imported it first, plus the interpreter's marker environment. Standard library
        only, so that nothing it imports itself pollutes sys.modules.

    python oracle.py compare --venv V --project P --imports IMPORTS.json --lock LOCK.json
                             --own NAME --out RESULT.json
        Run with any interpreter that has `packaging`. Maps the recorded modules to the
        distributions installed in V through each distribution's RECORD (file -> dist), takes
        their Requires-Dist closure (markers evaluated for V's marker environment, extras only
        where a requirement asks for them), and compares it with `envscan lock --format json`:
        missing (in the closure, not locked), extra (locked, outside the closure) with what
        justifies each, and error-level diagnostics on imports that CPython resolves in V
        (asked with importlib.util.find_spec in V's interpreter).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import json
import os
import platform
import signal
import site
import socket
import sys
import sysconfig

SKIP_DIRS = {
    "__pycache__", ".git", ".hg", ".tox", ".nox", ".venv", "venv", "build", "dist", "node_modules",
    ".eggs", ".mypy_cache", ".pytest_cache",
}
SKIP_FILES = {"setup.py"}
PER_FILE_SECONDS = 30


def project_files(root: str) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for f in sorted(files):
            if f.endswith(".py"):
                found.append(os.path.join(folder, f))
    return found


def prepend_name(path: str) -> tuple[str, str]:
    """The module name and sys.path entry pytest's `prepend` mode gives a file: the first
    folder upwards without an `__init__.py` goes on sys.path, the rest is the dotted name."""
    folder, base = os.path.split(path)
    parts = [] if base == "__init__.py" else [base[:-3]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, name = os.path.split(folder)
        parts.insert(0, name)
    return ".".join(parts), folder


def marker_environment() -> dict[str, str]:
    """PEP 508's environment markers for this interpreter (what packaging computes)."""
    v = sys.implementation.version
    impl = f"{v.major}.{v.minor}.{v.micro}"
    if v.releaselevel != "final":
        impl += v.releaselevel[0] + str(v.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": impl,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


class Tracer(importlib.abc.MetaPathFinder):
    """Records, for each module's first import, the module whose code asked for it."""

    def __init__(self) -> None:
        self.importers: dict[str, str] = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.importers:
            frame = sys._getframe(1)
            while frame is not None:
                name = frame.f_globals.get("__name__", "")
                code = frame.f_code.co_filename
                if not code.startswith("<frozen") and not name.startswith("importlib") and name != __name__:
                    break
                frame = frame.f_back
            self.importers[fullname] = frame.f_globals.get("__name__", "?") if frame else "?"
        return None


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout(f"import took more than {PER_FILE_SECONDS} s")


def module_file(module) -> str | None:
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.has_location and spec.origin:
        return spec.origin
    f = getattr(module, "__file__", None)
    return f if isinstance(f, str) else None


def cmd_imports(project: str, out: str) -> None:
    project = os.path.abspath(project)
    os.chdir(project)
    before = set(sys.modules)
    tracer = Tracer()
    sys.meta_path.insert(0, tracer)
    socket.setdefaulttimeout(10)
    signal.signal(signal.SIGALRM, on_alarm)
    failures = []
    imported = []
    real_stdout, real_stderr, real_argv = sys.stdout, sys.stderr, list(sys.argv)
    for n, path in enumerate(project_files(project)):
        if os.path.basename(path) in SKIP_FILES:
            continue
        name, base = prepend_name(path)
        if base not in sys.path:
            sys.path.insert(0, base)
        sys.argv = [path]
        signal.alarm(PER_FILE_SECONDS)
        try:
            existing = sys.modules.get(name)
            valid = all(p.isidentifier() for p in name.split("."))
            loaded = None
            if valid and (existing is None or module_file(existing) == path):
                try:
                    loaded = importlib.import_module(name)
                except ModuleNotFoundError as e:
                    # The name is taken by another module (a `datetime/` example folder
                    # under the stdlib's `datetime`): load the file by its path below.
                    if e.name is None or not name.startswith(e.name):
                        raise
            if loaded is None or module_file(loaded) != path:
                # Two files with one name (conftest.py in several folders without
                # __init__.py): pytest imports each under its own name; so do we.
                alias = f"_oracle_{n}"
                spec = importlib.util.spec_from_file_location(alias, path)
                mod = importlib.util.module_from_spec(spec)
                sys.modules[alias] = mod
                spec.loader.exec_module(mod)
            imported.append(os.path.relpath(path, project))
        except BaseException as e:  # noqa: BLE001 — SystemExit, pytest's Skipped, anything
            failures.append({
                "file": os.path.relpath(path, project),
                "module": name,
                "error": f"{type(e).__name__}: {e}"[:500],
            })
        finally:
            signal.alarm(0)
            sys.stdout, sys.stderr, sys.argv = real_stdout, real_stderr, real_argv
            os.chdir(project)
    sys.meta_path.remove(tracer)
    modules = {}
    for name, module in sorted(sys.modules.items()):
        if name in before or module is None or name.startswith("_oracle_"):
            continue
        modules[name] = module_file(module)
    paths = sysconfig.get_paths()
    result = {
        "python": sys.executable,
        "modules": modules,
        "importers": {k: v for k, v in sorted(tracer.importers.items()) if k in modules},
        "imported_files": imported,
        "failures": failures,
        "markers": marker_environment(),
        "site_packages": site.getsitepackages(),
        "stdlib": sorted({paths["stdlib"], paths["platstdlib"]}),
        "pytest_plugins": pytest_plugins(project),
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


def pytest_plugins(project: str) -> list[str] | None:
    """The third-party plugins real pytest registers when run in the project (`pytest -VV`
    loads the configuration, its `-p` arguments and every pytest11 entry point, and lists
    them), by distribution name as pytest prints it; None when pytest is not installed. Asked
    after the modules are recorded, so nothing it imports is counted."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("pytest") is None:
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-VV"], cwd=project, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    names = set()
    listing = False
    for line in done.stdout.splitlines():
        if line.startswith("registered third-party plugins:"):
            listing = True
        elif listing and line.startswith("  "):
            # `  pytest-mock-3.14.0 at /venv/.../pytest_mock/__init__.py`
            names.add(line.strip().split(" at ")[0].rsplit("-", 1)[0])
        elif listing:
            break
    return sorted(names)


# ---- compare ------------------------------------------------------------------------------


def installed(site_packages: list[str]):
    """Distributions by canonical name, first on the path wins (as pip and importlib do), and
    the file -> distribution map from their RECORDs."""
    from importlib.metadata import distributions

    from packaging.utils import canonicalize_name

    dists = {}
    files = {}
    for dist in distributions(path=site_packages):
        name = canonicalize_name(dist.metadata["Name"])
        if name in dists:
            continue
        dists[name] = dist
        for f in dist.files or []:
            files.setdefault(os.path.realpath(dist.locate_file(f)), name)
    return dists, files


def closure(seeds, dists, markers):
    """The Requires-Dist closure of `seeds` ({name: extras}): {name: why}, and the
    requirements that name a distribution not installed."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    why = {name: "seed" for name in seeds}
    todo = [(name, None) for name in seeds] + [(n, e) for n, es in seeds.items() for e in es]
    seen = set()
    absent = []
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen or name not in dists:
            continue
        seen.add((name, extra))
        for text in dists[name].requires or []:
            req = Requirement(text)
            env = dict(markers, extra=extra or "")
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            if req.marker is None and extra is not None:
                continue  # already followed for the distribution itself
            child = canonicalize_name(req.name)
            if child not in dists:
                absent.append(f"{name} requires {text}, not installed")
                continue
            why.setdefault(child, f"required by {name}{f'[{extra}]' if extra else ''}: {text}")
            todo.append((child, None))
            todo.extend((child, canonicalize_name(e)) for e in req.extras)
    return why, sorted(set(absent))


def project_imports(project: str) -> list[tuple[str, str]]:
    """Every import statement in the project's files, as (module, FILE:LINE), read with `ast`
    (not run): `import a.b`, `from a import b` (as `a` and `a.b`), literal
    `importlib.import_module("x")` / `__import__("x")`, and the module of an interpreter run
    with `-m` in a list or tuple literal (`[sys.executable, "-m", "x", ...]`, as `x` and
    `x.__main__`), which a subprocess imports where this oracle does not run it (issue 12).
    Relative imports are the project's own."""
    import ast

    found = []
    for path in project_files(project):
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError):
            continue
        where = os.path.relpath(path, project)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in ("import_module", "__import__"):
                    names = [node.args[0].value]
            elif isinstance(node, (ast.List, ast.Tuple)):
                names = dash_m_module(node.elts)
            found += [(name, f"{where}:{node.lineno}") for name in names]
    return found


def dash_m_module(elements) -> list[str]:
    """`[sys.executable, "-m", "x"]` or `["python3", "-u", "-m", "x"]`: `x` and `x.__main__`."""
    import ast

    if not elements:
        return []
    first = elements[0]
    interpreter = (
        isinstance(first, ast.Attribute) and first.attr == "executable"
        and isinstance(first.value, ast.Name) and first.value.id == "sys"
    ) or (
        isinstance(first, ast.Constant) and isinstance(first.value, str)
        and os.path.basename(first.value) in ("python", "python3")
    )
    if not interpreter:
        return []
    for before, after in zip(elements[1:], elements[2:]):
        if not (isinstance(before, ast.Constant) and isinstance(before.value, str)):
            return []
        if before.value == "-m":
            if isinstance(after, ast.Constant) and isinstance(after.value, str):
                return [after.value, after.value + ".__main__"]
            return []
        if not before.value.startswith("-") or before.value.startswith("-c"):
            return []
    return []


def import_sites(imports: list[tuple[str, str]], module: str) -> list[str]:
    """The sites among `imports` that load `module` (importing a child loads it too)."""
    return [site for name, site in imports if name == module or name.startswith(module + ".")]


FIND_SPEC = r"""
import importlib.util, json, os, sys
result = {}
for module, extra in json.load(sys.stdin):
    sys.path[:0] = extra
    try:
        spec = importlib.util.find_spec(module)
        result[module + "\0" + os.pathsep.join(extra)] = (spec.origin or "namespace") if spec else None
    except BaseException as e:
        result[module + "\0" + os.pathsep.join(extra)] = None
    del sys.path[:len(extra)]
json.dump(result, sys.stdout)
"""


def resolvable(python: str, project: str, asks: list[tuple[str, list[str]]]) -> dict:
    import subprocess

    done = subprocess.run([python, "-c", FIND_SPEC], input=json.dumps(asks), cwd=project,
                          stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout)


def origin_kind(origin, module, project, stdlib, site_packages, file) -> str:
    """Where CPython found a module envscan called unresolved, to sort false errors by cause."""
    real = os.path.realpath(origin) if os.path.isabs(origin) else origin
    if module.split(".")[0] in sys.stdlib_module_names or any(real.startswith(p + os.sep) for p in stdlib):
        return "stdlib"
    if any(real.startswith(os.path.realpath(p) + os.sep) for p in site_packages):
        return "installed"
    if file and os.path.dirname(real) == os.path.dirname(os.path.join(project, file)):
        return "beside the importing file"
    if real.startswith(project + os.sep):
        return "project, from a package root above the importing file"
    return "elsewhere"


def cmd_compare(args) -> None:
    from packaging.utils import canonicalize_name

    with open(args.imports) as f:
        imports = json.load(f)
    with open(args.lock) as f:
        lock = json.load(f)
    project = os.path.realpath(args.project)
    own = canonicalize_name(args.own)
    dists, files = installed(imports["site_packages"])
    markers = imports["markers"]
    stdlib = [os.path.realpath(p) for p in imports["stdlib"]]

    owner = {}
    unowned = {}
    for module, path in imports["modules"].items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in files:
            owner[module] = files[real]
        elif real.startswith(project + os.sep):
            owner[module] = "<local>"
        elif any(real.startswith(p + os.sep) for p in stdlib):
            owner[module] = "<stdlib>"
        else:
            unowned[module] = path
    oracle = {}
    for module, dist in sorted(owner.items()):
        if dist.startswith("<") or dist == own:
            continue
        oracle.setdefault(dist, []).append(module)
    needed, absent = closure({d: set() for d in oracle}, dists, markers)
    # pytest loads its plugins without any import naming them: when pytest is needed, what
    # `pytest -VV` registers is needed too, with its own closure.
    registered = sorted(canonicalize_name(n) for n in imports.get("pytest_plugins") or [])
    if "pytest" in needed and registered:
        plugin_needs, plugin_absent = closure({d: set() for d in registered}, dists, markers)
        absent = sorted(set(absent) | set(plugin_absent))
        for name, why in plugin_needs.items():
            needed.setdefault(name, "pytest registers it (pytest -VV)" if why == "seed" else why)
    needed.pop(own, None)

    locked = {}
    for package in lock["packages"]:
        name = canonicalize_name(package["name"])
        if name != own:
            locked[name] = package
    missing = {}
    for name in sorted(set(needed) - set(locked)):
        modules = oracle.get(name, [])
        importers = sorted({imports["importers"].get(m, "?") for m in modules})
        missing[name] = {"why": needed[name], "modules": modules[:5], "first_imported_by": importers[:5]}

    # Extras: justified when the project's code imports a module envscan says comes from it
    # (a site the runtime oracle did not execute: inside a function, under a guard, in a file
    # that failed to import or that it does not run), or when such a distribution requires it.
    extra_names = sorted(set(locked) - set(needed))
    statements = project_imports(project)
    seeds = {}
    sites_of = {}
    # ... and only through a module CPython loads from that distribution's files.
    asked = sorted({m for n in extra_names for m in locked[n].get("imported_as", [])})
    origins = resolvable(imports["python"], project, [(m, []) for m in asked]) if asked else {}
    for name in extra_names:
        sites = []
        for module in locked[name].get("imported_as", []):
            origin = origins.get(f"{module}\0")
            if origin and files.get(os.path.realpath(origin)) == name:
                sites += import_sites(statements, module)
        if sites:
            seeds[name] = set()
            sites_of[name] = sorted(set(sites))
    seeded, _ = closure(seeds, dists, markers)
    extras = {}
    for name in extra_names:
        package = locked[name]
        entry = {
            "reason": package.get("reason"),
            "imported_as": package.get("imported_as", []),
            "required_by": [r["name"] for r in package.get("required_by", [])],
        }
        if name in sites_of:
            entry["justified"] = "imported by the project where the runtime oracle did not run it: " + ", ".join(sites_of[name][:5])
        elif name in seeded:
            entry["justified"] = seeded[name]
        else:
            entry["justified"] = None
        extras[name] = entry

    # Error-level diagnostics on imports CPython resolves in the venv.
    asks = []
    errors = []
    for d in lock["diagnostics"]:
        if d["severity"] != "error":
            continue
        module = None
        if d["code"] == "unresolved-import" and d["message"].count("`") >= 2:
            module = d["message"].split("`")[1]
        extra_path = []
        if d.get("file"):
            path = os.path.join(project, d["file"])
            extra_path = [os.path.dirname(path), prepend_name(path)[1]]
        errors.append((d, module, extra_path))
        if module:
            asks.append((module, extra_path))
    found = resolvable(imports["python"], project, asks) if asks else {}
    false_errors = []
    true_errors = []
    for d, module, extra_path in errors:
        origin = found.get(f"{module}\0{os.pathsep.join(extra_path)}") if module else None
        where = f"{d.get('file', '?')}:{d.get('line', '?')}"
        item = {"code": d["code"], "at": where, "message": d["message"], "module": module}
        if origin:
            item["cpython_finds"] = origin
            item["kind"] = origin_kind(origin, module, project, stdlib, imports["site_packages"], d.get("file"))
            false_errors.append(item)
        else:
            true_errors.append(item)

    levels = {}
    codes = {}
    for d in lock["diagnostics"]:
        levels[d["severity"]] = levels.get(d["severity"], 0) + 1
        key = f"{d['severity']}[{d['code']}]"
        codes[key] = codes.get(key, 0) + 1
    unjustified = [n for n, e in extras.items() if not e["justified"]]
    result = {
        "oracle": {name: modules[:5] for name, modules in oracle.items()},
        "pytest_plugins": registered,
        "locked_pytest_plugins": sorted(
            name for name, p in locked.items()
            if "plugin of pytest via entry point group pytest11" in p.get("plugin_of", [])
        ),
        "closure": needed,
        "absent_requirements": absent,
        "unowned_modules": unowned,
        "import_failures": imports["failures"],
        "imported_files": len(imports["imported_files"]),
        "locked": sorted(locked),
        "missing": missing,
        "extras": extras,
        "unjustified_extras": unjustified,
        "recall": (len(set(needed) & set(locked)) / len(needed)) if needed else 1.0,
        "precision": ((len(locked) - len(unjustified)) / len(locked)) if locked else 1.0,
        "false_errors": false_errors,
        "errors_not_resolvable": true_errors,
        "diagnostics_by_level": levels,
        "diagnostics_by_code": codes,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "imports":
        cmd_imports(sys.argv[2], sys.argv[3])
        return
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["compare"])
    for flag in ("--venv", "--project", "--imports", "--lock", "--own", "--out"):
        parser.add_argument(flag, required=True)
    cmd_compare(parser.parse_args())


if __name__ == "__main__":
    main()
