"""What an editor offers in an expectation file (issue 17, item 5): ``schema.json`` as a real
YAML language server reads it, not as the plugin does.

    python -m benchmarks.editor_completion [--server CMD] [--schema PATH] [--modeline] [--json]

Starts the server (``--server``, else ``$YAML_LANGUAGE_SERVER``, else
``npx --no yaml-language-server``, which never downloads it; ``--stdio`` is added) and talks
LSP JSON-RPC with it over stdio: the schema is mapped to ``featureprobe_*.yaml`` with
``workspace/didChangeConfiguration`` (``yaml.schemas``, the file:// URI of schema.json), and
documents in a temporary folder are opened and asked ``textDocument/completion`` at chosen
places (each entry's subject, a new entry, the top level, ``drift:``), ``textDocument/hover``
on keys, and the diagnostics the server publishes for broken files. It prints a table, place
-> keys offered, and whether they are the keys the schema gives that place; the exit status is
1 when one is not. Without a server it prints one "skipped" line and exits 0. Not part of the
test suite (it needs Node); install the server with, for example,
``cd /tmp/yls && npm init -y && npm install yaml-language-server`` and pass
``--server /tmp/yls/node_modules/.bin/yaml-language-server``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "pytest_featureprobe" / "schema.json"
DEFAULT_SERVER = "npx --no yaml-language-server"
CURSOR = "|"  # where completion is asked, removed from the text
HEAD = "model:\n  fixture: m\nexpect:\n"
REST = "expect:\n  - alone: 4\n    predicts: C\n"  # a file's expectations, after its model
TITLE = "pytest-featureprobe expectation file"  # schema.json's title, which hovers repeat
TIMEOUT = 30.0  # seconds for one answer

# place -> (document with the cursor, where in the schema: a subject or a section)
PLACES: dict[str, tuple[str, str]] = {
    "(a) entry with alone: 4": (HEAD + "  - alone: 4\n    |\n", "alone"),
    "(b) entry with adding: x": (HEAD + "  - adding: x\n    |\n", "adding"),
    "(c) entry with every: ...": (HEAD + "  - every: {order: 2, containing: 4}\n    |\n", "every"),
    "    entry with zero: true": (HEAD + "  - zero: true\n    |\n", "zero"),
    "    entry with together: [..]": (HEAD + "  - together: [4, 5]\n    |\n", "together"),
    "    entry with biased_toward": (HEAD + "  - biased_toward: A\n    |\n", "biased_toward"),
    "    entry with top: 2": (HEAD + "  - top: 2\n    |\n", "top"),
    "(d) new empty entry": (HEAD + "  - alone: 4\n    predicts: C\n  - |\n", "entry"),
    "    new entry, 'a' typed": (HEAD + "  - alone: 4\n    predicts: C\n  - a|\n", "entry"),
    "(e) top level": (HEAD + "  - alone: 4\n    predicts: C\n|\n", "top-level"),
    "(f) inside drift:": (HEAD + "  - alone: 4\n    predicts: C\ndrift:\n  |\n", "drift"),
    "    inside drift.rank:": (
        HEAD + "  - alone: 4\n    predicts: C\ndrift:\n  rank:\n    |\n",
        "drift.rank",
    ),
    "    inside model:": ("model:\n  |\n" + REST, "model"),
    "    model with train:": (
        "model:\n  train: {data: d.csv, features: t, label: y}\n  |\n" + REST,
        "model:train",
    ),
    "    model with load:": ("model:\n  load: m.keras\n  |\n" + REST, "model:load"),
    "    model with fixture:": ("model:\n  fixture: m\n  |\n" + REST, "model:fixture"),
}
HOVERS = {  # key -> document; hover is asked on the key's first letter
    "predicts": HEAD + "  - alone: 4\n    predicts: C\n",
    "raises": HEAD + "  - adding: 4\n    raises: C\n",
    "max_flips": HEAD + "  - alone: 4\n    predicts: C\ndrift:\n  max_flips: 0\n",
    "band.floor": HEAD + "  - alone: 4\n    predicts: C\ndrift:\n  band:\n    floor: 0.1\n",
}
BROKEN = {
    "two subjects": HEAD + "  - alone: 4\n    zero: true\n    predicts: C\n",
    "raises with lowers": HEAD + "  - adding: 4\n    raises: C\n    lowers: A\n",
    "top: 2.0": HEAD + "  - top: 2.0\n    toward: C\n    include: [4]\n",
    "toward with alone": HEAD + "  - alone: 4\n    predicts: C\n    toward: C\n",
    "valid file": HEAD + "  - alone: 4\n    predicts: C\n",
}


class Server:
    """A language server over stdio: requests answered in order, notifications kept."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.settings: dict[str, Any] = {}
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        wanted = self.next_id
        self._send({"id": wanted, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline, method)
            if message.get("id") == wanted and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")

    def wait_for(self, method: str, uri: str) -> dict[str, Any]:
        """The latest notification ``method`` about ``uri``, waiting for one if none came."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for note in reversed(self.notifications):
                if note["method"] == method and note["params"].get("uri") == uri:
                    return note["params"]
            self._next(deadline, method)

    def _next(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        try:
            message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"no answer to {waiting_for} in {TIMEOUT:g} s") from None
        if message is None:
            raise RuntimeError("the server exited")
        if "method" in message and "id" in message:  # the server asks the client
            self._answer(message)
        elif "method" in message:
            self.notifications.append(message)
        return message

    def _answer(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            items = message["params"]["items"]
            result = [self.settings.get(i.get("section", ""), None) for i in items]
        self._send({"id": message["id"], "result": result})

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=5)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def start(
    command: list[str], folder: Path, schema_path: Path, modeline: bool
) -> tuple[Documents, str]:
    """The server started, with the schema mapped to featureprobe_*.yaml in its settings or
    named by each document's modeline; where documents open, and the server's version."""
    server = Server(command, ROOT)
    result = server.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": folder.as_uri(),
            "capabilities": {
                "workspace": {"configuration": True, "didChangeConfiguration": {}},
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": False}},
                    "hover": {"contentFormat": ["plaintext"]},
                    "publishDiagnostics": {},
                },
            },
        },
    )
    server.notify("initialized", {})
    uri = schema_path.resolve().as_uri()
    globs = ["featureprobe_*.yaml", "**/featureprobe_*.yaml"]
    yaml = {
        "schemas": {} if modeline else {uri: globs},
        "schemaStore": {"enable": False},
        "validate": True,
        "completion": True,
        "hover": True,
        "yamlVersion": "1.2",
    }
    server.settings = {"yaml": yaml, "": {"yaml": yaml}}
    server.notify("workspace/didChangeConfiguration", {"settings": {"yaml": yaml}})
    documents = Documents(
        server, folder, f"# yaml-language-server: $schema={uri}" if modeline else ""
    )
    ready(documents)
    info = result.get("serverInfo") or {}
    return (
        documents,
        f"{info.get('name', 'yaml-language-server')} {info.get('version', '')}".strip(),
    )


def ready(documents: Documents) -> None:
    """Wait until the server applies the schema (a first completion asked before it does
    finds none): an unknown top-level key is reported once it has."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        uri = documents.open("not_a_key: 1\n")
        if documents.server.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the schema was not applied in {TIMEOUT:g} s")
        time.sleep(0.2)


class Documents:
    """Files opened in the server, each under a new name in one temporary folder; with a
    modeline, it is their first line (``shift``: 1) and their names match no schema mapping."""

    def __init__(self, server: Server, folder: Path, modeline: str) -> None:
        self.server, self.folder, self.count, self.modeline = server, folder, 0, modeline
        self.shift = 1 if modeline else 0

    def open(self, text: str) -> str:
        self.count += 1
        name = "expectations" if self.modeline else "featureprobe"
        path = self.folder / f"{name}_{self.count}.yaml"
        if self.modeline:
            text = f"{self.modeline}\n{text}"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
        self.server.notify("textDocument/didOpen", {"textDocument": document})
        return uri


def position(text: str, marker: str) -> tuple[str, dict[str, int]]:
    """The text without the first ``marker`` and the LSP position where it was."""
    index = text.index(marker)
    before = text[:index]
    line = before.count("\n")
    character = len(before) - (before.rfind("\n") + 1)
    return text[:index] + text[index + len(marker) :], {"line": line, "character": character}


def completion(documents: Documents, text: str) -> list[str]:
    """The keys the server offers at the cursor (property items; values and snippets left out)."""
    text, where = position(text, CURSOR)
    uri = documents.open(text)
    where["line"] += documents.shift
    result = documents.server.request(
        "textDocument/completion", {"textDocument": {"uri": uri}, "position": where}
    )
    items = result.get("items", []) if isinstance(result, dict) else result or []
    return sorted({i["label"] for i in items if i.get("kind") == 10})  # 10: Property


def hover(documents: Documents, text: str, key: str) -> str:
    """The hover text on the last part of ``key``, one line."""
    name = key.rsplit(".", 1)[-1]
    text_at, where = position(text.replace(f"{name}:", f"{CURSOR}{name}:", 1), CURSOR)
    uri = documents.open(text_at)
    where["line"] += documents.shift
    result = documents.server.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": where}
    )
    if not result:
        return "(no hover)"
    contents = result["contents"]
    if isinstance(contents, dict):
        contents = contents.get("value", "")
    elif isinstance(contents, list):
        contents = " ".join(c if isinstance(c, str) else c.get("value", "") for c in contents)
    text = " ".join(str(contents).split())
    return text.removeprefix(f"#### {TITLE}").split("Source: [", 1)[0].strip() or "(none)"


def diagnostics(documents: Documents, text: str) -> list[str]:
    """The server's diagnostics for a file, as ``line: message``."""
    uri = documents.open(text)
    params = documents.server.wait_for("textDocument/publishDiagnostics", uri)
    return [
        f"{d['range']['start']['line'] + 1 - documents.shift}: {' '.join(d['message'].split())}"
        for d in params["diagnostics"]
    ]


def expected_keys(schema: dict[str, Any], place: str) -> set[str] | None:
    """The keys the schema gives a place (those an editor should offer), from schema.json."""
    defs, props = schema["$defs"], schema["properties"]
    suggestable = lambda p: {k for k, v in p.items() if not v.get("doNotSuggest")}  # noqa: E731
    if f"{place}_entry" in defs:
        return suggestable(defs[f"{place}_entry"]["properties"])
    if place == "top-level":
        return set(props)
    if place == "drift":
        return set(props["drift"]["properties"])
    if place == "drift.rank":
        return set(props["drift"]["properties"]["rank"]["properties"])
    if place.startswith("model"):  # what README's model section says goes with each kind
        return {
            "model": {"train", "load", "fixture", "context"},
            "model:train": {"context"},
            "model:load": {"features", "classes", "outputs", "sha256", "context"},
            "model:fixture": {"features", "classes", "outputs", "context"},
        }[place]
    if place == "entry":  # no subject yet: the subjects, and what any entry takes
        return {s.removesuffix("_entry") for s in defs if s.endswith("_entry")} | {
            "name",
            "marks",
            "context",
        }
    return None


def written(text: str) -> set[str]:
    """The keys already written in the mapping where the cursor is (an editor leaves them out)."""
    lines = text.splitlines()
    row = next(n for n, line in enumerate(lines) if CURSOR in line)
    column = lines[row].index(CURSOR)
    if "-" in lines[row][:column]:  # a new list item: nothing written in it yet
        return set()
    keys = set()
    for line in reversed(lines[:row]):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" -"))
        if indent < column:
            break
        if indent == column:
            keys.add(line.lstrip(" -").split(":")[0])
            if line.lstrip().startswith("-"):
                break
    return keys


def server_command(option: str | None) -> list[str] | None:
    """The command that starts the server, or None when it is not installed."""
    command = shlex.split(option or os.environ.get("YAML_LANGUAGE_SERVER") or DEFAULT_SERVER)
    if shutil.which(command[0]) is None:
        return None
    return [*command, "--stdio"]


def run(command: list[str], schema_path: Path, modeline: bool) -> dict[str, Any]:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        documents, version = start(command, folder, schema_path, modeline)
        server = documents.server
        try:
            rows = []
            for place, (text, kind) in PLACES.items():
                offered = completion(documents, text)
                wanted = expected_keys(schema, kind)
                fits = wanted is not None and set(offered) == wanted - written(text)
                rows.append({"place": place, "offered": offered, "fits": fits})
            hovers = {key: hover(documents, text, key) for key, text in HOVERS.items()}
            broken = {name: diagnostics(documents, text) for name, text in BROKEN.items()}
        finally:
            server.close()
    return {
        "server": version,
        "schema": f"{schema_path} by {'a modeline' if modeline else 'yaml.schemas'}",
        "completion": rows,
        "hover": hovers,
        "diagnostics": broken,
    }


def show(found: dict[str, Any]) -> None:
    print(f"{found['server']}, schema {found['schema']}")
    print(f"\n{'place':32} {'fits':5} keys offered")
    for row in found["completion"]:
        keys = ", ".join(row["offered"]) or "(none)"
        print(f"{row['place']:32} {'yes' if row['fits'] else 'NO':5} {len(row['offered'])}: {keys}")
    print("\nhover")
    for key, text in found["hover"].items():
        print(f"  {key}: {text[:160]}")
    print("\ndiagnostics")
    for name, lines in found["diagnostics"].items():
        print(f"  {name}: {'; '.join(lines) if lines else '(none)'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server", help=f"command that starts the server (default: {DEFAULT_SERVER})"
    )
    parser.add_argument(
        "--schema", type=Path, default=SCHEMA_PATH, help="the schema (default: the package's)"
    )
    parser.add_argument(
        "--modeline", action="store_true", help="name the schema in a modeline, not in settings"
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)
    command = server_command(args.server)
    if command is None:
        print("skipped: yaml-language-server is not installed (see --server)")
        return 0
    try:
        found = run(command, args.schema, args.modeline)
    except (RuntimeError, OSError) as error:
        print(f"skipped: {shlex.join(command)} did not answer as a language server ({error})")
        return 0
    if args.json:
        print(json.dumps(found, indent=1))
    else:
        show(found)
    return 0 if all(row["fits"] for row in found["completion"]) else 1


if __name__ == "__main__":
    sys.exit(main())
