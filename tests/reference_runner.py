"""A reference runner for envscan build plans: a test helper, not part of envscan.

It reads the build plan (envscan.plan.json, written by `envscan lock`) and the pack manifest
(manifest.json, written by `envscan pack`) and materialises the plan on this machine without
docker, the way a container runner would in an image:

- create_env: conda is not here, so the step is skipped with a note, and a fresh venv is made
  with the interpreter given by --python instead. That is only faithful when the step's
  `dependencies` ask for nothing but python and pip, so any other conda package is an error, and
  so is a python pin other than the plan's version. The step's conda file is not read: its
  `pip:` list is for conda users, and the lock installs those packages.
- install_lock: `uv pip install --compile-bytecode -r LOCK` into that venv (uv never downloads
  a Python here), compiled as an image build compiles it (the Dockerfile `envscan plan
  --dockerfile` writes does the same): without bytecode every start of the program compiles its
  packages again, which doubles httpie's start-up time and so fails its timing tests.
  The lock names the wheels of local distributions by a path relative to itself; wherever
  `envscan pack --out` put them, the lock is installed from a copy in WORK/lock with each wheel
  (from the manifest's `wheels`, sha256 and size checked) at the path the lock gives.
- build_local: the source tree's archive unpacked as for unpack, then
  `uv pip install --compile-bytecode --no-deps DESTINATION` (the plan's `pip install
  --no-deps`, which compiles by default) builds it here.
- unpack: each archive, verified against the manifest's sha256 and size, extracted under
  WORK/root at its destination (an absolute destination such as /app becomes WORK/root/app),
  then each file the manifest lists for it (`files`: path, size, sha256) checked there.
- set_env: the variables; each PYTHONPATH entry is mapped under WORK/root the same way.
- workdir: mapped likewise.
- entrypoint: run there, with `python`/`python3` meaning the venv's interpreter. Its exit code
  is the runner's.
- `-- COMMAND...`: runs COMMAND instead of the plan's entrypoint (or after the last step when
  the plan has none), exactly as the entrypoint would run: in the plan's working directory, with
  its variables and PYTHONPATH, `python`/`python3` meaning the venv's interpreter. This is how a
  test suite runs in the materialised environment (the round trip, scripts/round-trip).

Everything is checked before anything is done: the interpreter's version must equal the plan's
`python`, every unpack step needs its archive in the manifest with the right hash, and the step
kinds must be known. Errors go to stderr as `reference_runner: error: ...` with exit code 2.

Usage: python reference_runner.py --plan PLAN --manifest MANIFEST --python PY --uv UV --work DIR [-- COMMAND...]
"""

import argparse
import hashlib
import json
import os
import posixpath
import subprocess
import sys
import shutil
import tarfile
import tomllib
from pathlib import Path


SCHEMA_VERSION = 1
KNOWN_STEPS = {
    "create_env", "install_lock", "unpack", "build_local", "set_env", "workdir", "entrypoint",
}


class RunnerError(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True, type=Path)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--python", required=True, type=Path, help="the locked Python")
    parser.add_argument("--uv", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path, help="an empty folder to build in")
    argv = sys.argv[1:]
    command = None
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
        if not command:
            parser.error("`--` must be followed by a command")
    args = parser.parse_args(argv)
    args.command = command
    # Absolute, since the entrypoint runs in another folder (symlinks kept: a venv's python).
    for name in ("plan", "manifest", "python", "uv", "work"):
        setattr(args, name, Path(os.path.abspath(getattr(args, name))))
    try:
        return run(args)
    except RunnerError as err:
        print(f"reference_runner: error: {err}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    plan = load_json(args.plan)
    manifest = load_json(args.manifest)
    if plan.get("schema_version") != SCHEMA_VERSION:
        raise RunnerError(f"{args.plan}: schema_version {plan.get('schema_version')!r} is not {SCHEMA_VERSION}")
    steps = plan.get("steps")
    if not isinstance(steps, list):
        raise RunnerError(f"{args.plan}: no steps")
    unknown = sorted({s.get("kind") for s in steps} - KNOWN_STEPS)
    if unknown:
        raise RunnerError(f"{args.plan}: unknown step kinds {unknown}")

    # Check everything before doing anything.
    version = interpreter_version(args.python)
    if version != plan.get("python"):
        raise RunnerError(
            f"refusing {args.python}: it is Python {version}, the plan locks Python {plan.get('python')}"
        )
    plan_dir = args.plan.parent
    archives = {entry["source"]: entry for entry in manifest.get("archives", [])}
    for step in steps:
        if step["kind"] == "create_env":
            check_conda_dependencies(step, plan["python"])
        elif step["kind"] == "install_lock":
            if step.get("installer") != "uv":
                raise RunnerError(f"installer {step.get('installer')!r} is not supported (only uv)")
            if not (plan_dir / step["file"]).is_file():
                raise RunnerError(f"the lock {plan_dir / step['file']} is missing")
        elif step["kind"] in ("unpack", "build_local"):
            entry = archives.get(step["source"])
            if entry is None:
                raise RunnerError(f"the manifest has no archive for source {step['source']!r}")
            if entry["destination"] != step["destination"]:
                raise RunnerError(
                    f"source {step['source']!r}: the plan unpacks to {step['destination']}, "
                    f"the manifest to {entry['destination']}"
                )
            verify_archive(args.manifest.parent / entry["archive"], entry)
    for source in plan.get("local_sources", []):
        if not any(
            s["kind"] in ("unpack", "build_local") and s["source"] == source["name"] for s in steps
        ):
            raise RunnerError(f"local source {source['name']!r} has no unpack step")

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise RunnerError(f"{work} is not empty")
    root = work / "root"
    venv = work / "venv"
    venv_python = venv / "bin" / "python"
    uv_env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1")
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"):
        uv_env.pop(name, None)
    variables: dict = {}
    workdir = root
    for step in steps:
        kind = step["kind"]
        if kind == "create_env":
            print(
                f"note: create_env skipped: conda is not here; the step asks only for "
                f"python {plan['python']} and pip, so a venv with {args.python} stands in"
            )
            call([str(args.uv), "venv", "--quiet", "--python", str(args.python), str(venv)], uv_env)
        elif kind == "install_lock":
            if not venv_python.exists():
                raise RunnerError("install_lock comes before create_env")
            lock = stage_lock(plan_dir / step["file"], manifest, args.manifest.parent, work / "lock")
            call(
                [str(args.uv), "pip", "install", "--quiet", "--compile-bytecode", "--python",
                 str(venv_python), "-r", str(lock)],
                uv_env,
            )
        elif kind in ("unpack", "build_local"):
            entry = archives[step["source"]]
            target = under_root(root, step["destination"])
            extract(args.manifest.parent / entry["archive"], target)
            verify_files(target, entry)
            print(f"unpacked {step['source']} at {step['destination']}")
            if kind == "build_local":
                call(
                    [str(args.uv), "pip", "install", "--quiet", "--compile-bytecode", "--no-deps",
                     "--python", str(venv_python), str(target)],
                    uv_env,
                )
                print(f"built {step['source']} from its source tree")
        elif kind == "set_env":
            for name, value in step["variables"].items():
                if name == "PYTHONPATH":
                    value = os.pathsep.join(
                        str(under_root(root, entry)) for entry in value.split(":") if entry
                    )
                variables[name] = value
        elif kind == "workdir":
            workdir = under_root(root, step["path"])
        elif kind == "entrypoint":
            return run_program(args.command or step["command"], venv, workdir, uv_env, variables)
    if args.command:
        return run_program(args.command, venv, workdir, uv_env, variables)
    raise RunnerError("the plan has no entrypoint: nothing to run")


def run_program(command: list, venv: Path, workdir: Path, base_env: dict, variables: dict) -> int:
    """Runs the entrypoint (or the `--` command) as the image would: in the plan's working
    directory, with its variables, the environment's interpreter first on PATH."""
    command = list(command)
    if command and command[0] in ("python", "python3"):
        command[0] = str(venv / "bin" / "python")
    env = dict(base_env)
    env.update(variables)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    sys.stdout.flush()
    return subprocess.run(command, cwd=workdir, env=env).returncode


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RunnerError(f"cannot read {path}: {err}") from err


def interpreter_version(python: Path) -> str:
    try:
        out = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, check=True,
        )
    except (OSError, subprocess.CalledProcessError) as err:
        raise RunnerError(f"cannot run {python}: {err}") from err
    return out.stdout.strip()


def check_conda_dependencies(step: dict, python: str) -> None:
    """Only python (at the plan's version) and pip may be conda packages: a venv stands in."""
    dependencies = step.get("dependencies")
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise RunnerError("create_env: `dependencies` is not a list of conda specs")
    others = []
    for dep in dependencies:
        if dep == "pip":
            continue
        if dep.startswith("python=="):
            if dep != f"python=={python}":
                raise RunnerError(f"create_env: {dep} is not the plan's Python {python}")
            continue
        others.append(dep)
    if others:
        raise RunnerError(
            "create_env needs conda packages other than python and pip, which this runner "
            f"cannot install without conda: {others}"
        )


def stage_lock(lock: Path, manifest: dict, folder: Path, stage: Path) -> Path:
    """The lock itself, or a copy in `stage` with the manifest's wheels where it names them."""
    wheels = {entry["wheel"]: entry for entry in manifest.get("wheels", [])}
    if not wheels:
        return lock
    try:
        packages = tomllib.loads(lock.read_text(encoding="utf-8")).get("packages", [])
    except (OSError, ValueError) as err:
        raise RunnerError(f"cannot read {lock}: {err}") from err
    stage.mkdir(parents=True)
    for package in packages:
        path = (package.get("archive") or {}).get("path")
        if path is None:
            continue
        parts = path.split("/")
        if path.startswith("/") or ".." in parts:
            raise RunnerError(f"{lock.name}: archive path {path!r} leaves the lock's folder")
        entry = wheels.get(parts[-1])
        if entry is None:
            raise RunnerError(f"{lock.name} names {path}, which the manifest has no wheel for")
        source = folder / entry["wheel"]
        verify_archive(source, entry)
        target = stage.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    staged = stage / lock.name
    shutil.copyfile(lock, staged)
    return staged


def verify_archive(path: Path, entry: dict) -> None:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RunnerError(f"cannot read archive {path}: {err}") from err
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"] or len(data) != entry["size"]:
        raise RunnerError(
            f"archive {path.name} does not match the manifest: sha256 {digest} size {len(data)}, "
            f"expected sha256 {entry['sha256']} size {entry['size']}"
        )


def under_root(root: Path, destination: str) -> Path:
    """Maps an absolute image path such as /app/src under the root folder."""
    if not destination.startswith("/"):
        raise RunnerError(f"destination {destination!r} is not an absolute path")
    parts = [p for p in posixpath.normpath(destination).split("/") if p]
    if ".." in parts:
        raise RunnerError(f"destination {destination!r} leaves the root")
    return root.joinpath(*parts)


def extract(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            parts = member.name.split("/")
            if not member.isfile() or member.name.startswith("/") or ".." in parts:
                raise RunnerError(f"archive {archive.name}: unsafe entry {member.name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members=members, filter="data")
        else:
            tar.extractall(target, members=members)


def verify_files(target: Path, entry: dict) -> None:
    """Each file the manifest lists for the archive is there with its size and sha256."""
    for listed in entry.get("files", []):
        path = target / listed["path"]
        data = path.read_bytes() if path.is_file() else None
        if data is None or len(data) != listed["size"] or (
            hashlib.sha256(data).hexdigest() != listed["sha256"]
        ):
            raise RunnerError(f"{listed['path']} does not match the manifest's file list")


def call(command: list, env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RunnerError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


if __name__ == "__main__":
    sys.exit(main())
