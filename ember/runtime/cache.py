"""On-disk artifact cache.

Keyed by what the *caller* says the program is (the captured graph's structural hash,
before passes, never compiler output) plus the host target, the codegen options, the
artifact format and the ember version. The host part is computed here without llvmlite
(machine, CPU model and flags from /proc/cpuinfo, the installed llvmlite version read from
package metadata), so a cache hit never imports llvmlite.

``EMBER_CACHE_DIR`` (default ``~/.cache/ember``) and ``EMBER_CACHE=0`` (disable) are read
when a cache is created. Writes go to a temporary file in the same directory followed by
``os.replace``, so concurrent writers never leave a torn entry (the last one wins, all are
complete). A truncated or corrupt entry fails its checksum, is deleted, counted as
``corrupt`` and reported as a miss so the caller recompiles.

``python -m ember.runtime.cache clear`` empties the cache; ``... info`` prints where it is.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import threading

from .._version import __version__ as EMBER_VERSION
from .artifact import FORMAT_VERSION, Artifact, ArtifactError

_SUFFIX = ".emberart"


def _pkg_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # noqa: BLE001 - not installed or no metadata
        return None


_HOST = []


def host_fingerprint() -> dict:
    """What native code depends on about this machine, computed without llvmlite."""
    if _HOST:
        return _HOST[0]
    model, flags = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not model and line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif not flags and line.startswith("flags"):
                    flags = " ".join(sorted(line.split(":", 1)[1].split()))
                if model and flags:
                    break
    except OSError:
        pass
    fp = {"machine": platform.machine(), "system": platform.system(), "cpu_model": model,
          "cpu_flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
          "llvmlite": _pkg_version("llvmlite")}
    _HOST.append(fp)
    return fp


def cache_key(graph_key, options=None, extra=None) -> str:
    blob = json.dumps({"graph": graph_key, "host": host_fingerprint(), "options": options or {},
                       "extra": extra or {}, "ember": EMBER_VERSION, "format": FORMAT_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def default_dir():
    return os.environ.get("EMBER_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "ember")


class ArtifactCache:
    def __init__(self, directory=None, enabled=None):
        self.directory = directory or default_dir()
        self.enabled = (os.environ.get("EMBER_CACHE", "1") != "0") if enabled is None \
            else enabled
        self.hits = self.misses = self.corrupt = self.writes = 0
        self._lock = threading.Lock()

    def _path(self, key):
        return os.path.join(self.directory, key[:2], key + _SUFFIX)

    def get(self, key):
        """The cached Artifact, or None (a miss). Corrupt entries are removed."""
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            with self._lock:
                self.misses += 1
            return None
        try:
            art = Artifact.from_bytes(data)
        except ArtifactError:
            with self._lock:
                self.corrupt += 1
                self.misses += 1
            try:
                os.remove(path)
            except OSError:
                pass
            return None
        with self._lock:
            self.hits += 1
        return art

    def put(self, key, artifact: Artifact):
        if not self.enabled:
            return None
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(artifact.to_bytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
        with self._lock:
            self.writes += 1
        return path

    def get_or_compile(self, key, compile_fn):
        """(artifact, hit): the cached artifact, or ``compile_fn()`` stored under ``key``."""
        art = self.get(key)
        if art is not None:
            return art, True
        art = compile_fn()
        self.put(key, art)
        return art, False

    def clear(self):
        """Remove every entry (and stray temporaries); returns how many files went."""
        n = 0
        if not os.path.isdir(self.directory):
            return 0
        for root, _, files in os.walk(self.directory):
            for f in files:
                if f.endswith(_SUFFIX):
                    try:
                        os.remove(os.path.join(root, f))
                        n += 1
                    except OSError:
                        pass
        return n

    def stats(self):
        return {"hits": self.hits, "misses": self.misses, "corrupt": self.corrupt,
                "writes": self.writes, "enabled": self.enabled, "directory": self.directory}


_DEFAULT = []


def default_cache() -> ArtifactCache:
    if not _DEFAULT:
        _DEFAULT.append(ArtifactCache())
    return _DEFAULT[0]


def main(argv=None):
    import sys
    argv = sys.argv[1:] if argv is None else argv
    c = ArtifactCache()
    if argv[:1] == ["clear"]:
        print(f"removed {c.clear()} entries from {c.directory}")
    elif argv[:1] in (["info"], []):
        n = sum(len([f for f in fs if f.endswith(_SUFFIX)]) for _, _, fs in os.walk(c.directory))
        print(f"ember cache: {c.directory} ({'enabled' if c.enabled else 'disabled'}), "
              f"{n} entries")
    else:
        print("usage: python -m ember.runtime.cache [info|clear]")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
