"""The ``kb`` command: a thin adapter over the library."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kb.errors import KbError
from kb.settings import Settings

if TYPE_CHECKING:
    from kb.users import Users

PathOption = click.Path(path_type=Path, file_okay=False)


def _settings(content: Path | None = None, index: Path | None = None) -> Settings:
    return Settings.from_env(content_dir=content, index_dir=index)


def _emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        human()


def _run(fn: Callable[[], None]) -> None:
    try:
        fn()
    except KbError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2 if exc.status < 500 else 1)


def content_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--content", type=PathOption, help="Content folder (default $KB_CONTENT_DIR or content/).")(f)


def index_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--index", type=PathOption, help="Index folder (default $KB_INDEX_DIR or .kb/index).")(f)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
def main(verbose: bool) -> None:
    """kb: ask the sales knowledge base, with sources."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")


def _embedder(s: Settings) -> Any:
    from kb.embedding import load_embedder

    return load_embedder(s.model, s.cache_dir, s.runtime)


def _ingest(s: Settings, quiet: bool) -> Any:
    from tqdm import tqdm

    from kb.ingest import ingest

    if s.database_url:  # shared by several servers: one ingest at a time, published as a new generation
        from kb.service import KnowledgeBase

        with closing(KnowledgeBase(s, _embedder(s))) as kb:
            return kb.reindex()
    bar = tqdm(total=0, unit="passage", desc="embedding", disable=quiet, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    try:
        return ingest(s.content_dir, s.index_dir, _embedder(s), max_file_bytes=s.max_file_bytes,
                      chunk_tokens=s.chunk_tokens, progress=progress)
    finally:
        bar.close()


@main.command("ingest")
@content_option
@index_option
@json_option
def ingest_cmd(content: Path | None, index: Path | None, as_json: bool) -> None:
    """Index the content folder (incremental: only changed files are re-read and re-embedded)."""

    def go() -> None:
        s = _settings(content, index)
        report = _ingest(s, quiet=as_json)

        def human() -> None:
            click.echo(
                f"{report.files} files: {report.added} added, {report.updated} updated, {report.removed} removed,"
                f" {report.unchanged} unchanged; {report.passages} passages ({report.embedded} embedded now)"
            )
            for e in report.errors:
                click.echo(f"  skipped {e.path}: {e.reason}")

        _emit(report.as_dict(), as_json, human)

    _run(go)


def _filters(client: str | None, type_: str | None, product: str | None, tag: str | None) -> Any:
    from kb.search import Filters

    return Filters(client or "", type_ or "", product or "", tag or "")


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for name, help_ in (("tag", "Only documents with this tag."), ("product", "Only documents about this product."),
                        ("type", "Only documents of this type."), ("client", "Only this client's documents.")):
        f = click.option(f"--{name}", f"{name}_" if name == "type" else name, help=help_)(f)
    return f


@main.command("search")
@click.argument("query")
@click.option("--k", default=5, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True)
@filter_options
@content_option
@index_option
@json_option
def search_cmd(query: str, k: int, mode: str, client: str | None, type_: str | None, product: str | None,
               tag: str | None, content: Path | None, index: Path | None, as_json: bool) -> None:
    """The best passages for QUERY, ranked."""

    def go() -> None:
        from kb.service import KnowledgeBase

        s = _settings(content, index)
        hits = KnowledgeBase(s, _embedder(s)).search(query, k=k, filters=_filters(client, type_, product, tag),
                                                     mode=mode)
        keys = ("path", "heading", "heading_path", "text", "score", "start_line", "end_line")

        def human() -> None:
            for i, h in enumerate(hits, 1):
                click.echo(f"{i}. [{h.score:.3f}] {h.path}:{h.start_line}-{h.end_line}  {' > '.join(h.heading_path)}")
                click.echo("   " + h.text[:300].replace("\n", "\n   "))

        _emit({"hits": [{key: h.as_dict()[key] for key in keys} for h in hits]}, as_json, human)

    _run(go)


@main.command("ask")
@click.argument("question")
@filter_options
@content_option
@index_option
@json_option
def ask_cmd(question: str, client: str | None, type_: str | None, product: str | None, tag: str | None,
            content: Path | None, index: Path | None, as_json: bool) -> None:
    """A short answer to QUESTION with its sources, or an honest "not in the knowledge base"."""

    def go() -> None:
        from kb.service import KnowledgeBase

        s = _settings(content, index)
        kb = KnowledgeBase(s, _embedder(s))
        result = kb.ask(question, _filters(client, type_, product, tag))
        a = result.answer
        keys = ("path", "heading", "heading_path", "text", "score", "start_line", "end_line")
        data = {**a.as_dict(), "sources": [{k: h.as_dict()[k] for k in keys} for h in a.sources],
                "stale": sorted(p for p, f in result.freshness.items() if f.stale)}
        if result.gap_id:
            data["gap_id"] = result.gap_id

        def human() -> None:
            if a.client:
                click.echo(f"about: {kb.names().title(a.client)}")
            elif a.candidates:
                titles = ", ".join(kb.names().title(c) for c in a.candidates)
                click.echo(f"the question names several clients: {titles}")
            if a.answered:
                click.echo(a.answer)
                click.echo(f"\nconfidence {a.confidence:.2f} ({result.verdict})")
            elif a.note:
                click.echo(f"{a.note} The question was recorded as a gap.")
            else:
                who = f" Ask {a.owner}, who owns this topic." if a.owner else ""
                click.echo(f"The knowledge base does not know this.{who} The question was recorded as a gap.")
            click.echo("sources:")
            for h in a.sources[:3]:
                f = result.freshness.get(h.path)
                due = f"  [review overdue since {f.review_due or 'never verified'}]" if f and f.stale else ""
                click.echo(f"  {h.path}:{h.start_line}-{h.end_line}  {' > '.join(h.heading_path)}{due}")

        _emit(data, as_json, human)

    _run(go)


@main.command("eval")
@click.argument("set_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True)
@click.option("--negatives", multiple=True, type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Another set whose questions must be refused against this corpus (repeatable).")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Ask against another set's corpus (cross-lingual: questions aligned by squad_id).")
@click.option("--index", type=PathOption, help="Keep the set's index here (default: a temporary folder).")
@click.option("--rows", type=click.Path(path_type=Path, dir_okay=False), help="Write per-question rows (JSONL).")
@json_option
def eval_cmd(set_dir: Path, mode: str, negatives: tuple[Path, ...], corpus: Path | None, index: Path | None,
             rows: Path | None, as_json: bool) -> None:
    """Retrieval and answer quality on SET_DIR (its corpus/ and questions.jsonl)."""

    def go() -> None:
        from tqdm import tqdm

        from kb.evaluation import align, evaluate, load_questions
        from kb.search import Index

        with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
            s = Settings.from_env(content_dir=(corpus or set_dir) / "corpus", index_dir=index or Path(tmp))
            report = _ingest(s, quiet=as_json)
            questions = load_questions(set_dir)
            if corpus:
                questions = align(questions, load_questions(corpus))
            negs = [q for d in negatives for q in load_questions(d)]
            with tqdm(total=len(questions) + len(negs), desc="asking", disable=as_json, file=sys.stderr) as bar:
                res = evaluate(Index(s.index_dir, _embedder(s)), questions, mode,  # type: ignore[arg-type]
                               negs, bar.update)
        data = {"set": set_dir.name + (f" -> {corpus.name}" if corpus else ""), "mode": mode,
                "passages": report.passages, **res.as_dict()}
        if rows:
            rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in res.rows), encoding="utf-8")

        def human() -> None:
            for key, value in data.items():
                click.echo(f"{key:>12}: {value}")

        _emit(data, as_json, human)

    _run(go)


def _users() -> Users:
    from kb.users import Users

    s = _settings()
    return Users(s.data_dir, s.database_url)


@main.command("status")
@content_option
@index_option
@json_option
def status_cmd(content: Path | None, index: Path | None, as_json: bool) -> None:
    """What is indexed, with which model, and where."""

    def go() -> None:
        from kb.store import Store

        s = _settings(content, index)
        store = Store(s.index_dir)
        data: dict[str, Any] = {
            "content": str(s.content_dir), "index": str(s.index_dir), "data": str(s.data_dir),
            "model": store.get_meta("model"), "dim": int(store.get_meta("dim") or 0),
            "generation": int(store.get_meta("generation") or 0), **store.counts(),
        }
        if s.database_url:  # several servers: the newest generation, and which one each server serves
            from kb.datastore import DataStore
            from kb.db import PostgresDatabase, redact
            from kb.generations import Generations

            with closing(DataStore(s.data_dir, s.database_url)) as shared:
                assert isinstance(shared.db, PostgresDatabase)
                generations = Generations(shared.db)
                data["database"] = redact(s.database_url)
                data["newest"] = generations.newest()
                now = time.time()
                data["servers"] = [{"name": r.name, "generation": r.generation,
                                    "seen_seconds_ago": round(now - r.seen, 1)} for r in generations.servers()]

        def human() -> None:
            for key, value in data.items():
                if key != "servers":
                    click.echo(f"{key:>11}: {value}")
            for server in data.get("servers", []):
                late = " (behind)" if server["generation"] != data["newest"] else ""
                click.echo(f"{'server':>11}: {server['name']} serves generation {server['generation']}{late},"
                           f" seen {server['seen_seconds_ago']} s ago")

        _emit(data, as_json, human)

    _run(go)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--watch/--no-watch", default=True, show_default=True, help="Reindex when content changes.")
@click.option("--insecure", is_flag=True, help="Serve a non-loopback address with no users (everyone is admin).")
@click.option("--root-path", default=None, help="Path prefix behind a reverse proxy, e.g. /kb (default $KB_ROOT_PATH).")
@content_option
@index_option
def serve_cmd(host: str, port: int, watch: bool, insecure: bool, root_path: str | None, content: Path | None,
              index: Path | None) -> None:
    """Serve the web app and the HTTP API (the model and index load once, at start-up)."""

    def go() -> None:
        import ipaddress

        import uvicorn

        from api.app import create_app
        from api.logs import configure_logging
        from kb.errors import Forbidden
        from kb.generations import server_name
        from kb.users import Users

        s = Settings.from_env(content_dir=content, index_dir=index, watch=watch, root_path=root_path)
        if not s.server_name:
            s = Settings.from_env(content_dir=content, index_dir=index, watch=watch, root_path=root_path,
                                  server_name=server_name(port))
        configure_logging(s, verbose=logging.getLogger().isEnabledFor(logging.INFO))
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        with closing(Users(s.data_dir, s.database_url)) as users:
            anyone = users.any()
        if not anyone:
            if not loopback and not insecure:
                raise Forbidden(f"no users are configured: refusing to serve {host} to the network open to all."
                                " Add one with `kb users add NAME --role admin`, or pass --insecure.")
            click.echo("warning: no users configured: kb runs open (no sign-in), every visitor is admin."
                       " Add users with `kb users add` to require tokens.", err=True)
        app = create_app(s, _embedder(s))
        base = f"http://{host}:{port}{s.prefix}/"
        click.echo(f"kb is serving {s.content_dir} on {base}  (API docs: {base}docs)")
        # Forwarded headers are read by the app itself, only from KB_TRUSTED_PROXIES (uvicorn would trust loopback).
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, access_log=False)

    _run(go)


def _day(value: str | None) -> Any:
    import datetime as dt

    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def today_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--today", help="Take this date (YYYY-MM-DD) as today.")(f)


def _kb(s: Settings, model: bool = True) -> Any:
    from kb.service import KnowledgeBase

    return KnowledgeBase(s, _embedder(s) if model else None, s.clock())


@main.command("brief")
@click.argument("client")
@today_option
@content_option
@index_option
@json_option
def brief_cmd(client: str, today: str | None, content: Path | None, index: Path | None, as_json: bool) -> None:
    """A briefing on CLIENT before a call: every line with the file and lines it comes from."""

    def go() -> None:
        brief = _kb(_settings(content, index)).brief(client, _day(today))

        def human() -> None:
            click.echo(f"{brief.title} ({brief.client}) — owner: {brief.owner or 'nobody'}; as of {brief.today}")
            for part in brief.parts:
                click.echo(f"\n{part.title}")
                if part.missing:
                    hint = f": add a section \"{part.hint}\" to the client card" if part.hint else ""
                    click.echo(f"  missing{hint}")
                label = ""
                for line in part.lines:
                    if line.label and line.label != label:
                        click.echo(f"  {line.label}:")
                    label = line.label
                    where = f"{line.source.path}:{line.source.start_line}" if line.source else "not answered yet"
                    stale = " [stale]" if line.source and line.source.stale else ""
                    count = f" ×{line.count}" if line.count else ""
                    click.echo(f"  - {line.text}{count}{stale}  ({where})")
                if part.more:
                    click.echo(f"  ... {part.more} more in the documents")

        _emit(brief.as_dict(), as_json, human)

    _run(go)


@main.command("gaps")
@click.option("--status", type=click.Choice(["open", "answered", "all"]), default="open", show_default=True)
@content_option
@index_option
@json_option
def gaps_cmd(status: str, content: Path | None, index: Path | None, as_json: bool) -> None:
    """Questions kb could not answer well, grouped by meaning, with who should answer them."""

    def go() -> None:
        gaps = _kb(_settings(content, index)).gaps(status)

        def human() -> None:
            if not gaps:
                click.echo(f"no {status} gaps")
            for g in gaps:
                where = ", ".join(x for x in (g.client, g.topic) if x) or "general"
                done = f"  answered in {g.answer_path}" if g.answered else ""
                click.echo(f"#{g.id} ×{g.count} [{where}] {g.question}  -> {g.owner or 'no owner'}{done}")
                for example in [e for e in g.examples if e != g.question][:2]:
                    click.echo(f"      also: {example}")

        _emit({"gaps": [g.as_dict() for g in gaps]}, as_json, human)

    _run(go)


@main.command("stale")
@click.option("--within", default=0, show_default=True, type=click.IntRange(min=0),
              help="Also list documents due within this many days.")
@today_option
@content_option
@index_option
@json_option
def stale_cmd(within: int, today: str | None, content: Path | None, index: Path | None, as_json: bool) -> None:
    """Documents whose review is due, per owner (front matter verified + review_every)."""

    def go() -> None:
        import datetime as dt

        s = _settings(content, index)
        day = _day(today) or s.clock()()
        owners = _kb(s, model=False).stale(day, within)

        def human() -> None:
            if not owners:
                click.echo(f"nothing due for review by {day + dt.timedelta(days=within)}")
            for o in owners:
                click.echo(o.owner or "(no owner)")
                for d in o.documents:
                    f = d.freshness
                    state = (f"overdue {f.overdue_days} d (due {f.review_due})" if f.stale and f.review_due
                             else "never verified" if f.stale else f"due {f.review_due}")
                    click.echo(f"  {d.path}  {state}  — {d.title}")

        _emit({"today": day.isoformat(), "owners": [o.as_dict() for o in owners]}, as_json, human)

    _run(go)


@main.command("due")
@click.option("--within", default=30, show_default=True, type=click.IntRange(min=0),
              help="Items due within this many days count as due; later ones as later.")
@click.option("--owner", default="", help="Only the clients of this owner (name or e-mail, any part).")
@click.option("--client", default="", help="Only this client (id).")
@today_option
@content_option
@index_option
@json_option
def due_cmd(within: int, owner: str, client: str, today: str | None, content: Path | None, index: Path | None,
            as_json: bool) -> None:
    """What is due for each client: overdue promises, deadlines and open questions first, then the next days."""

    def go() -> None:

        from kb.due import by_owner

        s = _settings(content, index)
        day = _day(today) or s.clock()()
        owners = by_owner(_kb(s, model=False).due(day, within, owner, client))

        def human() -> None:
            if not owners:
                click.echo("nothing dated for these clients")
            for o in owners:
                click.echo(o.owner or "(no owner)")
                for c in o.clients:
                    click.echo(f"  {c.title}")
                    for i in c.items:
                        when = f"{-i.days} d ago" if i.days < 0 else f"in {i.days} d"
                        click.echo(f"    {i.status:8} {i.item.date}  ({when}, {i.item.kind})  {i.item.text[:100]}")
                        click.echo(f"             {i.item.path}:{i.item.start_line}")

        _emit({"today": day.isoformat(), "within": within, "owners": [o.as_dict() for o in owners]}, as_json, human)

    _run(go)


@main.command("handover")
@click.argument("owner")
@click.option("--to", "to", default="", help="Who takes the clients over (shown on the handover).")
@today_option
@content_option
@index_option
@json_option
def handover_cmd(owner: str, to: str, today: str | None, content: Path | None, index: Path | None,
                 as_json: bool) -> None:
    """A handover for OWNER's clients: what is due, open questions, promises, gaps, stale documents, who signs,
    and a checklist of what is still to be written."""

    def go() -> None:

        s = _settings(content, index)
        day = _day(today) or s.clock()()
        h = _kb(s).handover(owner, to, day)

        def human() -> None:
            click.echo(f"Handover of {h.owner}'s clients{' to ' + h.to if h.to else ''}, {h.today}")
            for c in h.clients:
                click.echo(f"\n{c.title}  ({c.card})")
                for s in c.signers[:3]:
                    click.echo(f"  signs: {s.text[:110]}")
                for i in c.due:
                    click.echo(f"  {i.status:8} {i.item.date}  {i.item.kind}: {i.item.text[:90]}")
                for g in c.gaps:
                    click.echo(f"  open gap #{g.id}: {g.question}")
                for path, _, f in c.stale:
                    click.echo(f"  review overdue: {path} (due {f.review_due or 'never verified'})")
                for m in c.missing:
                    click.echo(f"  missing: {m.text} (add «{m.heading}» to {c.card})")
            checklist = h.checklist()
            click.echo(f"\nChecklist for {h.owner}: {len(checklist)} item(s)")
            for item in checklist:
                click.echo(f"  [ ] {item['title']}: {item['text']}")

        _emit(h.as_dict(), as_json, human)

    _run(go)


@main.command("reassign")
@click.argument("owner")
@click.argument("new_owner")
@click.option("--client", default="", help="Only this client's documents (id).")
@content_option
@index_option
@json_option
def reassign_cmd(owner: str, new_owner: str, client: str, content: Path | None, index: Path | None,
                 as_json: bool) -> None:
    """Give OWNER's client documents to NEW_OWNER: only their front matter owner line changes, then reindex."""

    def go() -> None:
        import getpass

        from kb.users import Users

        s = _settings(content, index)
        changed = _kb(s).reassign(owner, new_owner, client)
        detail = f"{owner} -> {new_owner}" + (f" ({client})" if client else "")
        with closing(Users(s.data_dir, s.database_url)) as users:
            users.audit(f"cli:{getpass.getuser()}", "reassign", detail, changed)

        def human() -> None:
            click.echo(f"{len(changed)} document(s) now owned by {new_owner}")
            for path in changed:
                click.echo(f"  {path}")

        _emit({"owner": owner, "to": new_owner, "changed": changed}, as_json, human)

    _run(go)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--type", "doc_type", default="", help="Document type (default: faq with --client, else policy).")
@click.option("--client", default="", help="The client the documents are about (id of an existing card).")
@click.option("--owner", default="", help='Who owns them, as in front matter: "Name (e-mail)".')
@click.option("--dry-run", is_flag=True, help="Print the Markdown that would be written; write nothing.")
@content_option
@index_option
@json_option
def import_cmd(files: tuple[Path, ...], doc_type: str, client: str, owner: str, dry_run: bool, content: Path | None,
               index: Path | None, as_json: bool) -> None:
    """Import DOCX, PDF, HTML, text and .eml FILES as Markdown documents (a refused file is reported, the rest go
    on; one reindex at the end)."""

    def go() -> None:
        from kb.errors import KbError

        kb = _kb(_settings(content, index))
        done: list[dict[str, object]] = []
        refused: list[dict[str, str]] = []
        for file in files:
            try:
                found = kb.import_file(file.read_bytes(), file.name, doc_type, client, owner, dry_run, reindex=False)
                done.append(found.as_dict())
            except (KbError, OSError) as exc:
                refused.append({"path": str(file), "reason": str(exc)})
        if done and not dry_run:
            kb.reindex()

        def human() -> None:
            for d in done:
                click.echo(f"{'would write' if dry_run else 'wrote'} {d['path']}  ({d['format']}: {d['title']})")
                if dry_run:
                    click.echo(str(d["markdown"]))
            for r in refused:
                click.echo(f"refused {r['path']}: {r['reason']}", err=True)

        _emit({"imported": done, "refused": refused, "dry_run": dry_run}, as_json, human)
        if refused:
            raise SystemExit(1)

    _run(go)


@main.command("import-crm")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(["amocrm", "bitrix24"]), required=True,
              help="Which CRM wrote the export (CSV or XLSX).")
@click.option("--owner", default="", help="Owns new cards whose rows name no «Ответственный».")
@click.option("--dry-run", is_flag=True, help="Print the diff per file; write nothing.")
@content_option
@index_option
@json_option
def import_crm_cmd(file: Path, fmt: str, owner: str, dry_run: bool, content: Path | None, index: Path | None,
                   as_json: bool) -> None:
    """Create client cards from an amoCRM or Bitrix24 export of companies, contacts and deals, and update the
    CRM sections of existing cards (never the hand-written ones)."""

    def go() -> None:
        from kb import crm

        report = crm.import_crm_file(_kb(_settings(content, index), model=False), file, fmt, dry_run, owner)
        _emit(report.as_dict(), as_json, lambda: click.echo(report.text()))

    _run(go)


@main.command("verify")
@click.argument("path")
@today_option
@content_option
@index_option
@json_option
def verify_cmd(path: str, today: str | None, content: Path | None, index: Path | None, as_json: bool) -> None:
    """Mark the document at PATH (content-relative) verified: its front matter date changes, then reindex."""

    def go() -> None:
        f = _kb(_settings(content, index)).verify(path, _day(today))
        _emit({"path": path, **f.as_dict()}, as_json,
              lambda: click.echo(f"{path}: verified {f.verified}, next review {f.review_due}"))

    _run(go)


@main.command("coverage")
@content_option
@index_option
@json_option
def coverage_cmd(content: Path | None, index: Path | None, as_json: bool) -> None:
    """Per client: documents, owners, questions asked and answered; clients that depend on one owner."""

    def go() -> None:
        clients, loads = _kb(_settings(content, index), model=False).coverage()

        def human() -> None:
            for c in clients:
                flag = "  ! single owner" if c.single_owner else ""
                click.echo(f"{c.client:<22} docs {c.documents:>2}  owners {len(c.owners)}  asked {c.asked:>3}"
                           f"  answered {c.answered:>3}{flag}")
            for load in loads:
                click.echo(f"only {load.owner or '(no owner)'}: {', '.join(load.clients)}")

        _emit({"clients": [c.as_dict() for c in clients], "single_owner": [o.as_dict() for o in loads]},
              as_json, human)

    _run(go)


@main.command("new")
@click.argument("kind", metavar="TYPE", type=click.Choice(["client", "product", "policy", "faq", "playbook"]))
@click.argument("title")
@click.option("--owner", prompt="Owner (name and e-mail)", help="Who keeps it true: \"Name (e-mail)\".")
@click.option("--client", "client_id", default="", help="Client id (a client card makes one from the title).")
@click.option("--products", default="", help="Product ids, comma-separated.")
@click.option("--path", "rel", default="", help="Where to create it, relative to the content folder.")
@content_option
@json_option
def new_cmd(kind: str, title: str, owner: str, client_id: str, products: str, rel: str, content: Path | None,
            as_json: bool) -> None:
    """Create a TYPE document titled TITLE from its template: valid front matter, standard headings."""

    def go() -> None:
        import datetime as dt

        from kb.authoring import create

        s = _settings(content)
        ids = tuple(p.strip() for p in products.split(",") if p.strip())
        path = create(s.content_dir, kind, title, owner, dt.date.today(), client_id, ids, rel)
        _emit({"path": path, "type": kind, "title": title}, as_json,
              lambda: click.echo(f"created {s.content_dir / path}"))

    _run(go)


@main.command("lint")
@click.option("--no-length", is_flag=True, help="Skip the section length check (it loads the model).")
@today_option
@content_option
@json_option
def lint_cmd(no_length: bool, today: str | None, content: Path | None, as_json: bool) -> None:
    """Check the content folder like a docs CI: front matter, owners, client cards, links, headings, lengths.

    Exits with 1 when there are errors.
    """

    def go() -> None:
        import datetime as dt

        from kb.lint import lint

        s = _settings(content)
        embedder = None if no_length else _embedder(s)
        report = lint(s.content_dir, _day(today) or dt.date.today(), s.max_file_bytes,
                      embedder.count_tokens if embedder else None,
                      min(s.chunk_tokens, embedder.max_tokens - 16) if embedder else s.chunk_tokens)

        def human() -> None:
            for finding in report.findings:
                click.echo(str(finding))
            click.echo(f"{report.files} files: {report.errors} errors, {report.warnings} warnings")

        _emit(report.as_dict(), as_json, human)
        if report.errors:
            sys.exit(1)

    _run(go)


@main.group("users")
def users_cmd() -> None:
    """Manage who may use kb (tokens are shown once; only salted hashes are stored)."""


@users_cmd.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reader", "editor", "admin"]), required=True)
@click.option("--groups", default="", help="Comma-separated groups, for documents with `access:`.")
@json_option
def users_add(name: str, role: str, groups: str, as_json: bool) -> None:
    """Add a user and print their token once."""

    def go() -> None:

        group_list = [g for g in groups.split(",") if g.strip()]
        with closing(_users()) as users:
            token = users.add(name, role, group_list)
        data = {"name": name, "role": role, "groups": sorted({g.strip() for g in group_list}), "token": token}
        _emit(data, as_json, lambda: click.echo(f"{name} ({role}); token, shown once:\n{token}"))

    _run(go)


@users_cmd.command("list")
@json_option
def users_list(as_json: bool) -> None:
    """The active users, their roles and groups."""

    def go() -> None:

        with closing(_users()) as store:
            users = store.active()
        data = [{"name": u.name, "role": u.role, "groups": sorted(u.groups or ())} for u in users]

        def human() -> None:
            for u in data:
                click.echo(f"{u['name']:20} {u['role']:8} {','.join(u['groups'])}")

        _emit(data, as_json, human)

    _run(go)


@users_cmd.command("revoke")
@click.argument("name")
def users_revoke(name: str) -> None:
    """Revoke a user's token at once."""

    def go() -> None:

        with closing(_users()) as users:
            users.revoke(name)
        click.echo(f"revoked {name}")

    _run(go)


def _sqlite_only(command: str) -> None:
    from kb.errors import BadInput

    if _settings().database_url:
        raise BadInput(f"the users' data is in PostgreSQL (KB_DATABASE_URL): {command} copies the SQLite data of one"
                       " server; back PostgreSQL up with its own tools (pg_dump, or the company's backups)")


@main.command("backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def backup_cmd(path: Path) -> None:
    """Write a consistent copy of the users' data (users, feedback, gaps, audit), safe while serving."""

    def go() -> None:
        from kb.backup import backup

        _sqlite_only("kb backup")
        backup(_settings().data_dir, path)
        click.echo(f"backed up {_settings().data_dir / 'data.sqlite'} to {path}")

    _run(go)


@main.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@json_option
def restore_cmd(path: Path, as_json: bool) -> None:
    """Put a `kb backup` copy back as the users' data (stop the server first); the data replaced is kept
    as data.sqlite.before-restore."""

    def go() -> None:
        from kb.backup import restore

        _sqlite_only("kb restore")
        r = restore(_settings().data_dir, path)
        data = {"restored": str(r.path), "from": str(path), "kept": str(r.kept) if r.kept else None,
                "format": r.format_found, "counts": r.counts}

        def human() -> None:
            c = r.counts
            click.echo(f"restored {r.path} from {path}: {c['users']} users, {c['questions']} questions,"
                       f" {c['feedback']} feedback, {c['gaps']} gaps, {c['audit']} audit entries")
            if r.kept:
                click.echo(f"the data it replaced is kept as {r.kept}")

        _emit(data, as_json, human)

    _run(go)
