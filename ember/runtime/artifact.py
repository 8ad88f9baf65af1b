"""The compiled-artifact format: self-describing, checksummed, loadable without llvmlite.

Layout (little endian)::

    b"EMBERART"            8 bytes magic
    u32 format_version
    u32 header_len
    u64 code_len
    header                 header_len bytes of UTF-8 JSON
    code                   code_len bytes (a shared library or a relocatable object)
    sha256                 32 bytes over everything above

The header holds (see docs/CODEGEN.md): ``format_version``, ``ember_version``, ``backend``,
``target`` (triple, cpu, features, llvmlite and LLVM versions), ``options`` (codegen
options), ``code_kind`` (``elf-shared`` loads with ctypes; ``elf-object`` needs llvmlite),
``abi`` (kernel calling convention and slot names), ``kernels`` (name, kind and buffer
signature of every entry point), ``key_info`` (whatever the caller keyed it by) and, once
the program layer exists, the buffer plan and calling convention. A truncated, corrupted
or foreign file raises ``ArtifactError`` - it never loads.
"""
from __future__ import annotations

import hashlib
import json
import platform
import struct

from . import native

MAGIC = b"EMBERART"
# 2: entry points return int32 (0, or the code of a failed index check)
FORMAT_VERSION = 2
_HEAD = struct.Struct("<8sIIQ")


class ArtifactError(ValueError):
    pass


# LLVM feature name -> /proc/cpuinfo flag, for the features generated code commonly uses
_CPUINFO = {"avx": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c", "bmi2": "bmi2",
            "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512vl": "avx512vl",
            "avx512dq": "avx512dq", "avx512cd": "avx512cd", "avx512bf16": "avx512_bf16",
            "avx512fp16": "avx512_fp16", "avx512vnni": "avx512_vnni", "sse4.2": "sse4_2",
            "sse4.1": "sse4_1", "ssse3": "ssse3"}


def cpu_flags():
    """This machine's CPU flags from /proc/cpuinfo (None where unavailable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


class Artifact:
    def __init__(self, header: dict, code: bytes):
        self.header = dict(header)
        self.header["format_version"] = FORMAT_VERSION
        self.header["code_sha256"] = hashlib.sha256(code).hexdigest()
        self.code = bytes(code)

    @property
    def kernels(self):
        return self.header["kernels"]

    def to_bytes(self) -> bytes:
        h = json.dumps(self.header, sort_keys=True).encode()
        body = _HEAD.pack(MAGIC, FORMAT_VERSION, len(h), len(self.code)) + h + self.code
        return body + hashlib.sha256(body).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Artifact":
        if len(data) < _HEAD.size + 32:
            raise ArtifactError(f"artifact truncated ({len(data)} bytes)")
        magic, ver, hlen, clen = _HEAD.unpack_from(data)
        if magic != MAGIC:
            raise ArtifactError("not an ember artifact (bad magic)")
        if ver != FORMAT_VERSION:
            raise ArtifactError(f"artifact format version {ver}, this ember reads "
                                f"{FORMAT_VERSION}")
        end = _HEAD.size + hlen + clen
        if len(data) != end + 32:
            raise ArtifactError(f"artifact truncated or padded: {len(data)} bytes, "
                                f"header says {end + 32}")
        if hashlib.sha256(data[:end]).digest() != data[end:]:
            raise ArtifactError("artifact checksum mismatch (corrupted file)")
        try:
            header = json.loads(data[_HEAD.size:_HEAD.size + hlen])
        except ValueError as e:
            raise ArtifactError(f"artifact header is not JSON: {e}") from None
        art = cls(header, data[_HEAD.size + hlen:end])
        if art.header["code_sha256"] != header.get("code_sha256"):
            raise ArtifactError("artifact code checksum mismatch")
        return art

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.to_bytes())

    @classmethod
    def read(cls, path):
        with open(path, "rb") as f:
            return cls.from_bytes(f.read())

    def check_host(self):
        """Refuse code this CPU cannot run (it would die of SIGILL, not raise)."""
        target = self.header.get("target", {})
        arch = target.get("triple", "").split("-")[0]
        host = platform.machine()
        if arch and host and arch.replace("amd64", "x86_64") != host.replace("AMD64", "x86_64"):
            raise ArtifactError(f"artifact was compiled for {arch}, this machine is {host}")
        have = cpu_flags()
        if have is None:
            return
        need = {f[1:] for f in target.get("features", "").split(",") if f.startswith("+")}
        missing = sorted(_CPUINFO.get(f, f) for f in need & set(_CPUINFO)
                         if _CPUINFO[f] not in have)
        if missing:
            raise ArtifactError(f"artifact was compiled for CPU {target.get('cpu')!r} with "
                                f"features this machine lacks: {', '.join(missing)}")

    def load(self, num_threads=None) -> "Program":
        """Load the code and bind its slots. Shared libraries load with ctypes alone."""
        self.check_host()
        kind = self.header.get("code_kind")
        if kind == "elf-shared":
            src = native.load_shared(self.code)
        elif kind == "elf-object":
            src = _load_object(self.code, self.header["target"])
        else:
            raise ArtifactError(f"unknown code kind {kind!r}")
        native.bind_slots(src, num_threads=num_threads,
                          needs_blas=any(k.get("kind") == "matmul" for k in self.kernels))
        return Program(self.header, src)


def _load_object(code, target):
    """Relocatable objects (no ``cc`` at compile time) need a JIT linker: llvmlite's."""
    try:
        import llvmlite.binding as llvm
    except ImportError:
        raise ArtifactError("this artifact holds a relocatable object (no C compiler was "
                            "found when it was built); loading it needs llvmlite, which is "
                            "not installed - rebuild it where `cc` exists") from None
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    tm = llvm.Target.from_triple(target["triple"]).create_target_machine(
        cpu=target["cpu"], features=target["features"], opt=3)
    mod = llvm.parse_assembly("")
    mod.triple = target["triple"]
    ee = llvm.create_mcjit_compiler(mod, tm)
    ee.add_object_file(llvm.ObjectFileRef.from_data(code))
    ee.finalize_object()

    def fa(s):
        a = ee.get_function_address(s)
        if not a:
            raise KeyError(s)
        return a

    def ga(s):
        a = ee.get_global_value_address(s)
        if not a:
            raise KeyError(s)
        return a
    return native.SymbolSource(fa, ga, keepalive=ee)


class Program:
    """A loaded artifact: ``program[name](*arrays)`` runs an entry point."""

    def __init__(self, header, src):
        self.header = header
        self.source = src
        self.kernels = native.program_callables(src, header["kernels"])

    def __getitem__(self, name):
        return self.kernels[name]

    def set_num_threads(self, n):
        from . import abi
        native.set_slot_int(self.source, abi.NUM_THREADS, n)
