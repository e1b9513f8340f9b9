"""`kratom-qa`: ingest | ask | serve | eval | settings | corpus validate|audit|vectors | router train.

Thin: parse arguments, call one function, print. Errors print one line. Exit codes: 0 ok,
1 an eval gate missed, 2 bad input or settings, 3 the eval server cannot be reached, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

import bot.offline  # noqa: F401

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class CLIError(Exception):
    pass


def _settings(args: argparse.Namespace, corpus: bool = False):
    """The settings, with a warning per misspelt `KQA_*` variable; `corpus`: the command reads the
    corpus, so a missing corpus folder stops it now, before any model loads."""
    from bot.settings import load_settings, unknown_variables

    for warning in unknown_variables(dict(os.environ)):
        print(f"warning: {warning}", file=sys.stderr)
    overrides = {
        k: v
        for k, v in {"host": getattr(args, "host", None), "port": getattr(args, "port", None)}.items()
        if v
    }
    settings = load_settings(**overrides)
    if corpus and not settings.corpus_dir.is_dir():
        raise CLIError(
            f"the corpus folder {settings.corpus_dir} does not exist (KQA_CORPUS_DIR); "
            "unset KQA_CORPUS_DIR to use the bundled corpus/"
        )
    return settings


def cmd_settings(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        print(f"KQA_{name.upper():24} = {value!s:40}  # {field.description}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from bot.ingest import ingest
    from bot.services import Services

    services = Services(_settings(args, corpus=True))
    report = ingest(services.settings, services.encoder, services.index, progress=not args.quiet)
    print(report.summary())
    return 0


def ensure_index(services, progress: bool = True) -> None:
    """Make sure the index serves the current corpus before `ask`, `serve` or `eval` answer.

    Missing: build it (with a progress bar). Embedded store: an incremental ingest, which embeds
    nothing when the corpus is unchanged. Chroma server: other processes may share it, so only
    warn when it is out of date; run `kratom-qa ingest` once to update it.
    """
    from bot.ingest import ingest, stale_documents, up_to_date

    if not services.index.exists():
        print("No index yet: building it from the corpus (one time)...", file=sys.stderr)
        report = ingest(services.settings, services.encoder, services.index, progress=progress)
        print(report.summary(), file=sys.stderr)
    elif not services.settings.uses_server:
        if up_to_date(services.settings, services.index, services.encoder.model_name):
            return  # built from exactly these corpus files: nothing to check row by row
        report = ingest(services.settings, services.encoder, services.index, progress=progress)
        if report.switched:
            print(f"Corpus changed; index updated: {report.summary()}", file=sys.stderr)
    else:
        stale = stale_documents(services.settings, services.encoder, services.index)
        if stale:
            print(
                f"WARNING: the shared index is out of date for {len(stale)} document(s) "
                f"(e.g. {stale[0]}); run `kratom-qa ingest` once to update it.",
                file=sys.stderr,
            )


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.chat import answer_turn
    from bot.render import as_json, terminal
    from bot.services import Services

    question = " ".join(args.question).strip()
    if not question:
        raise CLIError('ask needs a question, e.g. kratom-qa ask "Is kratom approved by the FDA?"')
    services = Services(_settings(args, corpus=True))
    _ = services.policy  # a broken policy stops here, before any work
    ensure_index(services)
    reply = answer_turn([{"role": "user", "content": question}], services)
    print(json.dumps(as_json(reply), indent=2, ensure_ascii=False) if args.json else terminal(reply))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.server import port_problem

    started = time.perf_counter()
    settings = _settings(args, corpus=True)
    if args.eval:  # a local harness: no rate limit, and so nobody else may reach the server
        if settings.host not in LOOPBACK:
            raise CLIError(
                f"serve --eval binds loopback only; drop --host/KQA_HOST={settings.host} "
                "(or run without --eval, with the rate limit)"
            )
        settings = settings.model_copy(update={"rate_limit_per_minute": 0})
    problem = port_problem(settings.host, settings.port)  # before any slow loading
    if problem:
        raise CLIError(problem)
    if "KQA_ENCODE_WORKERS" not in os.environ:
        settings = settings.model_copy(update={"encode_workers": max(1, os.cpu_count() or 1)})
    logging.getLogger("kratom_qa").setLevel(settings.log_level)
    from bot.server import run
    from bot.startup import PausedGC, Starting, step_printer

    # Listen first, load behind it (bot/startup.py): /healthz says `loading`, the chat page shows
    # the steps, the API answers 503 + Retry-After until the turn path is loaded.
    starting = Starting(settings.allowed_origins)
    url = f"http://{settings.host}:{settings.port}"
    step = step_printer(starting, lambda line: print(line, file=sys.stderr, flush=True))
    failed: list[BaseException] = []
    paused_gc = PausedGC()  # no collector passes over the start-up imports; settled once ready

    def since_start() -> str:
        return f"{time.perf_counter() - started:.1f} s"

    def load() -> None:
        with step("Loading the embedding model (torch)"):
            from bot.services import Services

            services = Services(settings, progress=True)
            _ = services.encoder
        with step("Checking the index"):
            ensure_index(services)
        services.warm(step)
        from bot.api import create_app

        starting.activate(create_app(services, with_ui=False), whole=False)
        print(f"API answering in {since_start()}: {url}/api/chat, {url}/v1/...", file=sys.stderr, flush=True)
        with step("Building the web chat"):
            app = create_app(services)
        starting.activate(app, whole=True)
        print(
            f"Ready in {since_start()}. kratom-qa chat on {url}  (API docs: /docs)",
            file=sys.stderr,
            flush=True,
        )
        paused_gc.settle()
        if args.eval:
            print(
                "eval mode: no rate limit, loopback only (for harnesses; not for a public page)",
                file=sys.stderr,
            )

    def listening(stop) -> None:  # the URL works from now on (it shows the progress until ready)
        print(f"Listening on {url} in {since_start()}; loading...", file=sys.stderr, flush=True)

        def guarded() -> None:
            try:
                load()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread, after the server stops
                failed.append(exc)
                stop()

        threading.Thread(target=guarded, name="kqa-startup", daemon=True).start()

    with paused_gc:
        served = run(starting, settings, on_ready=listening)
    if not served:
        raise CLIError(
            f"could not listen on {settings.host}:{settings.port} (see above); "
            "pick another port with `--port` or `KQA_PORT`"
        )
    if failed:
        raise failed[0]
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    import bot.eval as harness
    from guardrails.policy import load_policy

    settings = _settings(args, corpus=True)
    datasets = [
        (Path(p), harness.load_dataset(Path(p))) for p in args.datasets
    ]  # validate all before running any
    gate = harness.load_gate(Path(args.gate)) if args.gate else None
    target: harness.Target
    if args.url:
        target = harness.http_target(args.url)
    else:
        from bot.services import Services

        services = Services(settings)
        ensure_index(services)
        services.warm()
        target = harness.in_process_target(services)
    documents = harness.corpus_texts(settings.corpus_dir)
    urgent = harness.urgent_numbers(load_policy(settings.policy_path), settings.locale)  # the run's locale
    out = Path(args.out) if args.out else settings.data_dir / "eval" / time.strftime("%Y%m%d-%H%M%S")
    failed = []
    for path, items in datasets:
        report = harness.evaluate(items, target, documents, progress=not args.quiet, urgent=urgent)
        print(harness.terminal_table(path.name, report["summary"]))
        json_path, html_path = harness.write_reports(path.name, report, out)
        print(f"  reports: {json_path}  {html_path}  (every reply: {json_path.stem}.replies.jsonl)")
        if gate:
            misses = harness.check_gate(report["summary"], gate)
            for m in misses:
                print(f"  GATE MISS {path.name}: {m}")
            failed += misses
    if gate:
        print("gate: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from bot.corpus_loader import load_corpus

    settings = _settings(args, corpus=True)
    if args.action == "validate":
        from bot.corpus_es import load_spanish

        docs = load_corpus(settings.corpus_dir)
        spanish = load_spanish(settings.corpus_dir, docs)
        print(
            f"corpus OK: {len(docs)} documents ({len(spanish)} with a Spanish file) in {settings.corpus_dir}"
        )
        return 0
    if args.action == "vectors":
        from bot.embedding import load_encoder
        from bot.vector_cache import write_cache

        path, texts, encoded = write_cache(settings, load_encoder(settings.embedding_model))
        size = path.stat().st_size / 1e6
        print(f"{path}: {texts} vectors ({encoded} newly encoded), {size:.1f} MB")
        return 0
    from bot.audit import audit_corpus

    problems = audit_corpus(settings)
    for p in problems:
        print(p)
    print(f"audit: {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_router(args: argparse.Namespace) -> int:
    """Retrain the router's intent model from the labelled batches (guardrails/data/splits-v6.yaml)."""
    from bot.embedding import load_encoder
    from bot.router_train import train
    from guardrails.policy import load_policy

    settings = _settings(args)
    print("Loading the base model (all-MiniLM-L6-v2, bundled)...", flush=True)
    encoder = load_encoder("")
    policy = load_policy(settings.policy_path)
    summary = train(
        encoder,
        policy,
        split=args.split,
        epochs=args.epochs,
        seed=args.seed,
        lr=args.lr,
        reuse=args.reuse,
        progress=not args.quiet,
        score_blind=not args.no_blind,
        sealed=tuple(args.seal),
        threads=args.threads,
        **({"splits_path": Path(args.splits).resolve()} if args.splits else {}),
    )
    cal = summary["report"]["calibration"]["router"]
    print(
        f"router: trained in {summary['seconds']} s on {summary['counts'].get('train', 0)} conversations; "
        f"calibration emergency R {cal['recall_emergency']['value']:.3f}, crisis R {cal['recall_crisis']['value']:.3f}, "
        f"answerable refused {cal['answer_refused']['value']:.3f}; card: guardrails/model/card.md"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kratom-qa", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("settings", help="print the effective settings")
    s.set_defaults(func=cmd_settings)

    s = sub.add_parser("ingest", help="build or update the index from the corpus")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("ask", help="ask one question from the terminal")
    s.add_argument("question", nargs="+")
    s.add_argument("--json", action="store_true", help="the reply as JSON, as /api/chat returns it")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("serve", help="start the web chat and HTTP API")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 7860)")
    s.add_argument(
        "--eval", action="store_true", help="bulk evaluation: lift the rate limit and listen on loopback only"
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("eval", help="score the bot on conversation datasets (JSONL)")
    s.add_argument("datasets", nargs="+", metavar="DATASET.jsonl")
    s.add_argument("--url", help="drive a running server through /v1/chat/completions instead of in-process")
    s.add_argument("--out", help="folder for the JSON and HTML reports (default: <data_dir>/eval/<time>)")
    s.add_argument("--gate", help="thresholds YAML; exit 1 when any metric misses")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("router", help="retrain the safety router's intent model")
    s.add_argument("action", choices=["train"])
    s.add_argument(
        "--split", type=int, default=3, help="layers kept frozen and shared with retrieval (default 3 of 6)"
    )
    s.add_argument("--epochs", type=int, default=5)
    s.add_argument(
        "--lr", type=float, default=2e-4, help="learning rate of the tuned layers (the head's is 10x)"
    )
    s.add_argument("--seed", type=int, default=13)
    s.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: the cores are shared; 2 halves training on a quiet 2-core machine)",
    )
    s.add_argument("--no-blind", action="store_true", help="do not score the held-out splits")
    s.add_argument(
        "--splits", help="splits file (default guardrails/data/splits-v6.yaml, the shipped model's)"
    )
    s.add_argument(
        "--seal",
        action="append",
        default=[],
        metavar="SPLIT",
        help="a held-out split to leave unscored (still used to drop near-duplicates); repeatable",
    )
    s.add_argument(
        "--reuse",
        action="store_true",
        help="keep the committed weights; redo only calibration, card and metrics",
    )
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_router)

    s = sub.add_parser("corpus", help="check the corpus, or rewrite its vector cache (corpus/vectors.npz)")
    s.add_argument("action", choices=["validate", "audit", "vectors"])
    s.set_defaults(func=cmd_corpus)
    return p


def main(argv: list[str] | None = None) -> int:
    from bot.corpus_loader import CorpusError
    from bot.embedding import EncoderError
    from bot.eval import DatasetError, TargetError
    from bot.index import IndexError_
    from bot.intent import IntentModelError
    from bot.settings import SettingsError
    from guardrails.policy import PolicyError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (
        CLIError,
        CorpusError,
        SettingsError,
        IndexError_,
        EncoderError,
        DatasetError,
        PolicyError,
        IntentModelError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TargetError as exc:  # not "gate failed" (1), not bad input (2)
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
