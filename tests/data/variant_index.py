"""A PEP 691 package index laid out like PyTorch's variant indexes, for envscan's target tests.

Usage: python variant_index.py FOLDER
Generates tiny wheels and sdists into FOLDER, serves them on 127.0.0.1 (a free port), prints
the base URL on stdout, and serves until stdin closes (the test that started it ended).

Indexes (each `/NAME/PROJECT/` answers PEP 691 JSON, api-version 1.1):
- /cpu/, /cu121/, /cu124/: torch 2.5.1 with the label as PyTorch publishes it (`+cpu`, ...);
- /pypi/: the plain torch 2.5.1 (a macOS and a manylinux wheel), `macpkg` (macOS and Windows
  wheels and an sdist: compiled code), `muslpkg` (musllinux only), `sdistpkg` (sdist only, pure
  Python), `purepkg` (py3-none-any), `multipkg` (wheels for many platforms, to compare the
  pick with uv's), `requirer` (requires macpkg only on macOS, and purepkg);
- /build/: the builds this machine would have made from those sdists (Linux wheels), from
  which the tests install their venvs, so the venvs hold what an index-less build leaves.
Compiled wheels hold an empty `_native.cpython-311-x86_64-linux-gnu.so`-style file, which is all
envscan needs to see compiled code.
"""

import base64
import hashlib
import http.server
import io
import json
import sys
import tarfile
import threading
import urllib.parse
import zipfile
from pathlib import Path

PY = "cp311"

# (index, project, version, [tags or "sdist"], requires)
CATALOGUE = [
    ("cpu", "torch", "2.5.1+cpu", [f"{PY}-{PY}-manylinux_2_28_x86_64", f"{PY}-{PY}-win_amd64"], []),
    ("cu121", "torch", "2.5.1+cu121", [f"{PY}-{PY}-manylinux_2_28_x86_64"], []),
    ("cu124", "torch", "2.5.1+cu124", [f"{PY}-{PY}-manylinux_2_28_x86_64", f"{PY}-{PY}-win_amd64"], []),
    ("pypi", "torch", "2.5.1", [f"{PY}-none-macosx_11_0_arm64", f"{PY}-{PY}-manylinux_2_28_x86_64"], []),
    ("pypi", "macpkg", "1.0", [f"{PY}-{PY}-macosx_11_0_arm64", f"{PY}-{PY}-win_amd64", "sdist"], []),
    ("pypi", "muslpkg", "1.0", [f"{PY}-{PY}-musllinux_1_2_x86_64"], []),
    ("pypi", "sdistpkg", "1.0", ["sdist"], []),
    ("pypi", "purepkg", "1.0", ["py3-none-any"], []),
    ("pypi", "multipkg", "1.0", [
        f"{PY}-{PY}-manylinux_2_17_x86_64.manylinux2014_x86_64",
        f"{PY}-{PY}-manylinux_2_28_x86_64",
        f"{PY}-{PY}-manylinux_2_28_aarch64",
        f"{PY}-{PY}-musllinux_1_1_x86_64",
        f"{PY}-{PY}-macosx_10_9_x86_64",
        f"{PY}-{PY}-macosx_11_0_arm64",
        "cp38-abi3-macosx_14_0_arm64",
        f"{PY}-{PY}-win_amd64",
        "py3-none-any",
    ], []),
    ("pypi", "requirer", "1.0", ["py3-none-any"], ['macpkg; sys_platform == "darwin"', "purepkg"]),
    # What this machine built from the sdists, or took from elsewhere: the venvs' source.
    ("build", "macpkg", "1.0", [f"{PY}-{PY}-linux_x86_64"], []),
    ("build", "muslpkg", "1.0", [f"{PY}-{PY}-linux_x86_64"], []),
    ("build", "sdistpkg", "1.0", ["py3-none-any"], []),
]


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(project, version, tag, requires):
    files = {f"{project}/__init__.py": f'__version__ = "{version}"\n'.encode()}
    compiled = not tag.endswith("-none-any")
    if compiled:
        files[f"{project}/_native.cpython-311-x86_64-linux-gnu.so"] = b""
    info = f"{project}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files[f"{info}/METADATA"] = metadata.encode()
    purelib = "false" if compiled else "true"
    tags = [f"{p}-{a}-{f}" for p, a, fs in [tag.split("-")] for f in fs.split(".")]
    files[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: envscan-tests\nRoot-Is-Purelib: {purelib}\n"
        + "".join(f"Tag: {t}\n" for t in tags)
    ).encode()
    lines = [record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(lines) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, (1980, 1, 2, 0, 0, 0)), data)
    return f"{project}-{version}-{tag}.whl", buffer.getvalue()


def sdist(project, version):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in [
            ("PKG-INFO", f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n"),
            (f"{project}/__init__.py", ""),
        ]:
            data = text.encode()
            member = tarfile.TarInfo(f"{project}-{version}/{path}")
            member.size = len(data)
            member.mtime = 315964800
            archive.addfile(member, io.BytesIO(data))
    return f"{project}-{version}.tar.gz", buffer.getvalue()


def build(folder):
    pages = {}
    for index, project, version, kinds, requires in CATALOGUE:
        for kind in kinds:
            name, data = sdist(project, version) if kind == "sdist" else wheel(project, version, kind, requires)
            (folder / index).mkdir(parents=True, exist_ok=True)
            (folder / index / name).write_bytes(data)
            pages.setdefault((index, project), []).append((name, data))
    return pages


def main():
    folder = Path(sys.argv[1])
    pages = build(folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
    base = f"http://127.0.0.1:{server.server_address[1]}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = [urllib.parse.unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
            if len(parts) == 2 and (parts[0], parts[1]) in pages:
                index, project = parts
                body = json.dumps({
                    "meta": {"api-version": "1.1"},
                    "name": project,
                    "files": [
                        {
                            "filename": name,
                            "url": f"{base}/files/{index}/{urllib.parse.quote(name)}",
                            "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                            "size": len(data),
                            "yanked": False,
                        }
                        for name, data in pages[(index, project)]
                    ],
                }).encode()
                self.reply(200, "application/vnd.pypi.simple.v1+json", body)
            elif len(parts) == 3 and parts[0] == "files" and (folder / parts[1] / parts[2]).is_file():
                self.reply(200, "application/octet-stream", (folder / parts[1] / parts[2]).read_bytes())
            else:
                self.reply(404, "text/plain", b"not found")

        def do_HEAD(self):
            # uv asks for a wheel's size first (to read its METADATA by range).
            self.head_only = True
            self.do_GET()

        def reply(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not getattr(self, "head_only", False):
                self.wfile.write(body)

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(base, flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
