"""Coverage-guided fuzzing of each parser with atheris (libFuzzer for Python).

    python scripts/fuzz_parsers.py tls --seconds 600          # one target, ten minutes
    python scripts/fuzz_parsers.py all --seconds 600 --jobs 2 --report parsers.json
    python scripts/fuzz_parsers.py --list

Invariant (as h11's fuzz suite): whatever bytes come in, a parser returns a value or raises its
one documented error (:class:`ParseError` for dissectors, :class:`Malformed` for the decoder,
:class:`InputError` for the capture readers); the dissectors as a whole never raise.
Anything else is a crasher: the input is saved to ``WORKDIR/crashes/TARGET/`` with its
traceback (one file per distinct exception site) and fuzzing goes on.

Corpora are seeded from the shared captures (``../shared/captures/real``) and the bundled ones:
every flow's TCP streams and UDP datagrams (payloads picked per target), and whole small
captures for the readers. They live in ``WORKDIR/corpus/TARGET`` (default WORKDIR:
``/tmp/inspector-fuzz``), never in the repository: they are derived from the shared captures.

Each target input is one selector byte (which entry point of the module) and the bytes for it.
Without atheris the script falls back to a coverage-blind mutation loop over the same corpus
(``--engine random``).

The compiled core (``inspector/_native``) is the ``native`` target: whole captures and runs of
raw frames through the compiled core and through its pure-Python twin; any difference is a
crasher (``NativeMismatch``). Its C code is fuzzed coverage-guided and under AddressSanitizer
and UndefinedBehaviorSanitizer with an instrumented build made beside the normal one:

    scripts/build_fuzz_native.sh build/fuzz-native            # needs clang
    python scripts/fuzz_parsers.py native --seconds 600 --native-build build/fuzz-native

(the children then run with the build's ``preload.so`` in ``LD_PRELOAD``; libFuzzer's own
findings, e.g. a sanitizer report, are saved to ``WORKDIR/crashes/TARGET/crash-*``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "captures" / "real"
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Target:
    entries: tuple[str, ...]  #: "module:function" of every entry point, picked by byte 0
    allowed: str  #: "module:Exception" that may escape; "" for none
    seeds: str  #: seed kind: stream, datagram, dns, capture, frame, flow
    max_len: int = 4096


TARGETS: dict[str, Target] = {
    "pcap": Target(("fuzz_entry:read_pcap",), "inspector.errors:InputError", "capture", 65536),
    "pcapng": Target(("fuzz_entry:read_pcapng",), "inspector.errors:InputError", "capture", 65536),
    "decode": Target(("fuzz_entry:decode_frames",), "inspector.decode:Malformed", "frame"),
    "tls": Target(
        (
            "inspector.dissect.tls:walk_records",
            "fuzz_entry:tls_client_hello",
            "fuzz_entry:tls_server_hello",
            "inspector.dissect.tls_ext:parse_sslv2_client_hello",
            "fuzz_entry:dtls_client_hello",
        ),
        "inspector.errors:ParseError",
        "stream",
    ),
    "dtls": Target(
        (
            "inspector.dissect.dtls:parse_records",
            "inspector.dissect.dtls:parse_handshake_fragments",
            "inspector.dissect.dtls:dtls_payload",
        ),
        "inspector.errors:ParseError",
        "datagram",
    ),
    "quic": Target(
        (
            "inspector.dissect.quic_packet:parse_long_header",
            "inspector.dissect.quic_packet:split_datagram",
            "inspector.dissect.quic_packet:parse_frames",
            "inspector.dissect.quic_packet:handshake_message",
            "fuzz_entry:quic_flow",
            "inspector.dissect.gquic:parse_public_header",
            "inspector.dissect.gquic:parse_chlo",
            "fuzz_entry:gquic_frames",
        ),
        "inspector.errors:ParseError",
        "datagram",
    ),
    "dns_wire": Target(
        ("inspector.dissect.dns_wire:parse_message", "fuzz_entry:dns_lenient"),
        "inspector.errors:ParseError",
        "dns",
    ),
    "http": Target(
        ("inspector.dissect.http:parse_request_head", "inspector.dissect.http:parse_response_head"),
        "inspector.errors:ParseError",
        "stream",
    ),
    "stun": Target(
        ("inspector.dissect.stun:parse_stun", "inspector.dissect.stun:split_tcp"),
        "inspector.errors:ParseError",
        "datagram",
    ),
    "rtp": Target(
        (
            "inspector.dissect.rtp:parse_rtp",
            "inspector.dissect.rtp:parse_rtcp",
            "inspector.dissect.rtp:locate",
            "fuzz_entry:rtp_srtcp",
            "inspector.dissect.zoom:parse_sfu",
            "inspector.dissect.zoom:locate_rtp",
            "inspector.dissect.codecs:opus_samples",
            "inspector.dissect.codecs:h264_packet_ok",
            "inspector.dissect.codecs:vp8_packet",
        ),
        "inspector.errors:ParseError",
        "datagram",
    ),
    "x509": Target(
        (
            "inspector.dissect.x509:parse_certificate",
            "inspector.dissect.x509:parse_certificate_chain",
        ),
        "inspector.errors:ParseError",
        "stream",
        16384,
    ),
    "dissectors": Target(("fuzz_entry:all_dissectors",), "", "flow", 8192),
    # the compiled core (inspector/_native) against its pure-Python twin: any difference in
    # records, reader flags, accounting, flows or flow contents is a crasher (NativeMismatch)
    "native": Target(
        ("fuzz_entry:native_capture", "fuzz_entry:native_frames"), "", "native", 16384
    ),
}


def load(spec: str) -> Callable[..., object]:
    mod, _, name = spec.partition(":")
    module = __import__(mod, fromlist=[name])
    return getattr(module, name)  # type: ignore[no-any-return]


# ---- seeds -----------------------------------------------------------------------------


def capture_files(shared: bool = True) -> list[Path]:
    files = sorted((ROOT / "captures").glob("*.pcap"))
    if shared and SHARED.is_dir():
        files += sorted(
            p
            for p in SHARED.rglob("*")
            if p.is_file() and re.search(r"\.(pcap|pcapng|cap)(\.gz)?$", p.name)
        )
    return files


def _flows(files: Iterable[Path]) -> Iterable[tuple[Path, object]]:
    from inspector.errors import InputError
    from inspector.pipeline import flow_views

    for f in files:
        try:
            for view in flow_views(str(f)):
                yield f, view
        except InputError:
            continue


def make_seeds(target: str, out: Path, limit: int = 600, shared: bool = True) -> int:
    """Write up to ``limit`` seeds for ``target`` into ``out``; how many were written."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for seed in seeds(target, limit, shared):
        (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        n += 1
    return n


def seeds(target: str, limit: int = 600, shared: bool = True) -> list[bytes]:
    """Seed inputs for ``target`` (selector byte included) from the captures' flows."""
    from fuzz_entry import serialize_flow

    t = TARGETS[target]
    raw: list[bytes] = []
    files = capture_files(shared)
    if t.seeds == "native":
        return native_seeds(files, limit, t.max_len)
    if t.seeds == "capture":  # the entry adds the magic: pcap's is chosen by one byte
        small = [f.read_bytes() for f in files if f.stat().st_size <= t.max_len]
        if target == "pcap":
            raw = [b"\0" + d[4:] for d in small if d[:4] == b"\xd4\xc3\xb2\xa1"]
        else:
            from fuzz_entry import pcap_to_pcapng

            ng = [pcap_to_pcapng(d) for d in small if d[:4] == b"\xd4\xc3\xb2\xa1"]
            raw = [d[4:] for d in small + ng if d[:4] == b"\x0a\x0d\x0d\x0a"]
    else:
        for _, v in _flows(files):
            if t.seeds == "stream":
                raw += [s.data[: t.max_len] for s in (v.orig, v.resp) if s.data]  # type: ignore[attr-defined]
            elif t.seeds in ("datagram", "dns"):
                if t.seeds == "dns" and 53 not in (v.orig_p, v.resp_p) and v.resp_p != 5353:  # type: ignore[attr-defined]
                    continue
                raw += [d.payload for d in v.datagrams[:20]]  # type: ignore[attr-defined]
            elif t.seeds == "flow":
                raw.append(serialize_flow(v))
            elif t.seeds == "frame":
                raw += [d.payload for d in v.datagrams[:3]]  # type: ignore[attr-defined]
    rnd = random.Random(0)
    uniq = sorted(set(raw))
    rnd.shuffle(uniq)
    per = limit // max(1, len(t.entries)) + 1
    return [(bytes([i]) + d)[: t.max_len] for d in uniq[:per] for i in range(len(t.entries))]


def native_seeds(files: list[Path], limit: int, max_len: int) -> list[bytes]:
    """Whole small captures (entry 0) and runs of their first frames (entry 1)."""
    import io
    import struct

    from fuzz_entry import LINKTYPES, pcap_to_pcapng

    from inspector.errors import InputError
    from inspector.source.open import _open

    whole, frames = [], []
    for f in files:
        data = f.read_bytes() if f.stat().st_size <= 1 << 22 else b""
        if data[:4] != b"\xd4\xc3\xb2\xa1":
            continue
        if len(data) <= max_len:
            whole += [b"\0" + data[4:], b"\4" + pcap_to_pcapng(data)[4:]]
        try:
            spans = list(_open(str(f), io.BytesIO(data)).spans())[:24]  # type: ignore[arg-type]
        except InputError:
            continue
        if spans and spans[0][1] in LINKTYPES:
            chunks = [struct.pack("!H", e - s) + bytes(b[s:e]) for _, _, b, s, e, _ in spans]
            frames.append(bytes([0, LINKTYPES.index(spans[0][1])]) + b"".join(chunks)[:max_len])
    rnd = random.Random(0)
    for group in (whole, frames):
        rnd.shuffle(group)
    half = limit // 2
    picked = [b"\0" + d for d in whole[:half]] + [b"\1" + d for d in frames[:half]]
    return [d[:max_len] for d in picked]


# ---- the harness -------------------------------------------------------------------------


def harness(target: str, crash_dir: Path | None) -> Callable[[bytes], None]:
    """The fuzz function of ``target``; ``crash_dir=None``: re-raise what is not allowed."""
    t = TARGETS[target]
    fns = [load(e) for e in t.entries]
    allowed: tuple[type[BaseException], ...] = ()
    if t.allowed:
        allowed = (load(t.allowed),)  # type: ignore[assignment]
    seen: set[str] = set()
    if crash_dir is not None:
        crash_dir.mkdir(parents=True, exist_ok=True)

    def one(data: bytes) -> None:
        if not data:
            return
        try:
            fns[data[0] % len(fns)](data[1:])
        except allowed:
            return
        except Exception as exc:  # the finding: save it, keep fuzzing
            if crash_dir is None:
                raise
            tb = traceback.extract_tb(exc.__traceback__)
            site = f"{type(exc).__name__}@{tb[-1].filename}:{tb[-1].lineno}"
            if site in seen:
                return
            seen.add(site)
            name = hashlib.sha1(site.encode()).hexdigest()[:12]
            (crash_dir / f"{name}.bin").write_bytes(data)
            (crash_dir / f"{name}.txt").write_text(
                f"{site}\n\n{''.join(traceback.format_exception(exc))}"
            )
            print(f"CRASH {target} {site}", file=sys.stderr, flush=True)

    return one


def import_all() -> list[str]:
    """Import every module of :mod:`inspector` (not ``__main__``); the names that failed."""
    import importlib
    import pkgutil

    import inspector

    failed = []
    for mod in pkgutil.walk_packages(inspector.__path__, "inspector."):
        if mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:  # an optional dependency missing: fuzz the rest
            failed.append(mod.name)
    return failed


def run_atheris(target: str, seconds: int, workdir: Path) -> None:
    import atheris

    corpus = workdir / "corpus" / target
    with atheris.instrument_imports(include=["inspector", "fuzz_entry"]):
        one = harness(target, workdir / "crashes" / target)
        # inside the block: modules the entries import lazily (source.open imports the pcap
        # and pcapng readers inside _open) are instrumented only if imported here
        import_all()
    args = [
        sys.argv[0],
        f"-max_total_time={seconds}",
        f"-max_len={TARGETS[target].max_len}",
        "-timeout=20",
        "-rss_limit_mb=3072",
        "-print_final_stats=1",
        f"-artifact_prefix={workdir / 'crashes' / target}/",  # ASan/UBSan/timeout/oom findings
        str(corpus),
    ]
    atheris.Setup(args, one)
    atheris.Fuzz()


def use_native_build(build: Path) -> None:
    """Import ``build/_core*.so`` (scripts/build_fuzz_native.sh) as the compiled core."""
    import importlib.machinery
    import importlib.util

    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    so = build / f"_core{suffix}"
    if not so.is_file():
        raise SystemExit(f"fuzz_parsers: {so} missing: run scripts/build_fuzz_native.sh {build}")

    class Finder:
        @staticmethod
        def find_spec(name: str, path: object = None, target: object = None) -> object:
            if name == "inspector._native._core":
                return importlib.util.spec_from_file_location(name, so)
            return None

    sys.meta_path.insert(0, Finder)  # type: ignore[arg-type]


def native_env(build: Path | None) -> dict[str, str] | None:
    """The child's environment for an instrumented build: its sanitizer runtime preloaded."""
    if build is None:
        return None
    import os

    env = dict(os.environ)
    env["LD_PRELOAD"] = str(build / "preload.so")
    # python's own allocations are never freed at exit: no leak report; the rest is fatal
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1:symbolize=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


def run_random(target: str, seconds: int, workdir: Path) -> None:
    """Coverage-blind fallback: mutate corpus entries at random for ``seconds``."""
    one = harness(target, workdir / "crashes" / target)
    corpus = [p.read_bytes() for p in sorted((workdir / "corpus" / target).iterdir())]
    rnd = random.Random(0)
    end, runs = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        data = bytearray(rnd.choice(corpus) or b"\0")
        for _ in range(rnd.choice((1, 2, 8))):
            op = rnd.randrange(3)
            pos = rnd.randrange(len(data) or 1)
            if op == 0 and data:
                data[pos] = rnd.getrandbits(8)
            elif op == 1:
                del data[pos:]
            else:
                data[pos:pos] = rnd.randbytes(rnd.choice((1, 4, 32)))
        one(bytes(data))
        runs += 1
    print(f"Done {runs} runs in {seconds} second(s)", file=sys.stderr)


# ---- the driver ----------------------------------------------------------------------------


def drive(
    targets: list[str],
    seconds: int,
    jobs: int,
    workdir: Path,
    engine: str,
    native_build: Path | None = None,
) -> dict:
    """Run each target in its own process (``jobs`` at a time); a JSON-able summary.

    ``native_build``: run on the instrumented core of scripts/build_fuzz_native.sh.
    """
    results: dict[str, dict] = {}
    pending = list(targets)
    running: list[tuple[str, subprocess.Popen[str], float]] = []
    while pending or running:
        while pending and len(running) < jobs:
            t = pending.pop(0)
            corpus = workdir / "corpus" / t
            if not corpus.is_dir() or not any(corpus.iterdir()):
                make_seeds(t, corpus)
            seeds = sum(1 for _ in corpus.iterdir())
            cmd = [sys.executable, __file__, t, "--seconds", str(seconds), "--child"]
            cmd += ["--workdir", str(workdir), "--engine", engine]
            if native_build is not None:
                cmd += ["--native-build", str(native_build)]
            log = open(workdir / f"{t}.log", "w")  # noqa: SIM115 - closed below
            env = native_env(native_build)
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
            results[t] = {"seeds": seeds}
            running.append((t, p, time.monotonic()))
        time.sleep(1)
        for item in list(running):
            t, p, t0 = item
            if p.poll() is None:
                continue
            running.remove(item)
            results[t].update(_summarise(t, p.returncode, time.monotonic() - t0, workdir))
    return results


def _summarise(t: str, rc: int, wall: float, workdir: Path) -> dict:
    log = (workdir / f"{t}.log").read_text(errors="replace")
    runs = re.findall(r"Done (\d+) runs in (\d+) second", log)
    cov = re.findall(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", log)
    crashes = sorted(p.stem for p in (workdir / "crashes" / t).glob("*.txt"))
    # what libFuzzer itself saved: a sanitizer report, a timeout, an out-of-memory
    artifacts = sorted(p.name for p in (workdir / "crashes" / t).glob("*-*") if p.is_file())
    native = re.search(r"Loaded \d+ modules\s+\((\d+) inline 8-bit counters", log)
    return {
        "exit": rc,
        "wall_s": round(wall, 1),
        "runs": int(runs[-1][0]) if runs else None,
        "cov": int(cov[-1][0]) if cov else None,
        "features": int(cov[-1][1]) if cov else None,
        "corpus": int(cov[-1][2]) if cov else None,
        "crashes": [
            (workdir / "crashes" / t / f"{c}.txt").read_text().split("\n")[0] for c in crashes
        ],
        "libfuzzer_artifacts": artifacts,
        "libfuzzer_error": "ERROR: libFuzzer" in log or "==ERROR" in log,
        "preloaded_libfuzzer": "Using preloaded libfuzzer" in log,
        "native_edges": int(native.group(1)) if native else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("target", nargs="?", default="all", help="a target name, or all")
    p.add_argument("--seconds", type=int, default=600)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--workdir", default="/tmp/inspector-fuzz")
    p.add_argument("--engine", choices=("atheris", "random"), default="")
    p.add_argument("--report", default="")
    p.add_argument("--list", action="store_true")
    p.add_argument(
        "--native-build",
        default="",
        help="run on the instrumented core built by scripts/build_fuzz_native.sh DIR",
    )
    p.add_argument(
        "--bundled-only",
        action="store_true",
        help="seed empty corpora from the repository's own captures only (a corpus that may be "
        "committed: tests/fuzz/corpus; the shared captures' bytes may not)",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.list:
        print("\n".join(TARGETS))
        return 0
    engine = args.engine or _default_engine()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    build = Path(args.native_build).resolve() if args.native_build else None
    if args.child:
        if build is not None:
            use_native_build(build)
        (run_atheris if engine == "atheris" else run_random)(args.target, args.seconds, workdir)
        return 0
    targets = list(TARGETS) if args.target == "all" else args.target.split(",")
    for t in targets if args.bundled_only else ():
        corpus = workdir / "corpus" / t
        if not corpus.is_dir() or not any(corpus.iterdir()):
            make_seeds(t, corpus, shared=False)
    report = {
        "engine": engine,
        "seconds_per_target": args.seconds,
        "native_build": str(build or ""),
        "targets": drive(targets, args.seconds, args.jobs, workdir, engine, build),
    }
    text = json.dumps(report, indent=1)
    if args.report:
        Path(args.report).write_text(text + "\n")
    print(text)
    results = report["targets"].values()
    found = any(r.get("crashes") or r.get("libfuzzer_artifacts") for r in results)
    return 1 if found else 0


def _default_engine() -> str:
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("fuzz_parsers: atheris not installed, using the random engine", file=sys.stderr)
        return "random"
    return "atheris"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
