"""Editing documents through the API: source, preview, checked saves, conflicts, versions, new documents."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.embedding import Embedder
from kb.lint import lint
from kb.settings import Settings
from kb.users import Users

from .conftest import TODAY

CARD = "clients/romashka.md"
FLEET = "Есть ли у Ромашки собственный автопарк?"
FLEET_LINE = "У «Ромашки» собственный автопарк: 14 грузовиков, доставкой в магазины управляет РЦ Шушары."
GIT = ["git", "-c", "user.name=Тест", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def with_fleet(markdown: str) -> str:
    """The card with a new section about the client's fleet, before its contacts."""
    return markdown.replace("## Контакты и роли", f"## Автопарк\n\n{FLEET_LINE}\n\n## Контакты и роли", 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture()
def client(demo_copy: Settings, embedder: Embedder) -> Iterator[TestClient]:
    """The demo, writable, with no users: everyone may edit."""
    with TestClient(create_app(demo_copy, embedder, clock=lambda: TODAY)) as c:
        yield c


def git(content: Path, *args: str) -> str:
    done = subprocess.run([*GIT, "-C", str(content), *args], capture_output=True, check=True,
                          env={**os.environ, "LC_ALL": "C"})
    return done.stdout.decode("utf-8")


def test_save_reindexes_and_the_next_answer_cites_the_new_line(client: TestClient, demo_copy: Settings) -> None:
    file = demo_copy.content_dir / CARD
    before = client.post("/api/ask", json={"question": FLEET, "client": "romashka"}).json()
    assert not before["answered"]

    source = client.get(f"/api/documents/{CARD}/source").json()
    assert source["path"] == CARD and source["version"] == sha(file.read_bytes())
    assert source["markdown"] == file.read_text("utf-8")
    text = with_fleet(source["markdown"])
    saved = client.put(f"/api/documents/{CARD}", json={"markdown": text, "version": source["version"],
                                                       "author": "Анна Петрова"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["path"] == CARD and body["version"] == sha(file.read_bytes()) and body["warnings"] == []
    assert file.read_text("utf-8") == text

    after = client.post("/api/ask", json={"question": FLEET, "client": "romashka"}).json()
    assert after["answered"] and "14 грузовиков" in after["answer"]
    top = after["sources"][0]
    assert top["path"] == CARD and top["start_line"] <= line_of(text, FLEET_LINE) <= top["end_line"]
    shown = client.get(f"/api/documents/{CARD}").json()
    assert FLEET_LINE.replace("«", "«") in shown["html"] and any(s["heading"] == "Автопарк" for s in shown["sections"])
    log = client.get("/api/audit").json()["entries"]
    assert any(e["action"] == "edit" and e["documents"] == [CARD] for e in log)


def test_preview_renders_like_the_document_view_and_writes_nothing(client: TestClient,
                                                                     demo_copy: Settings) -> None:
    file = demo_copy.content_dir / CARD
    original = file.read_bytes()
    view = client.get(f"/api/documents/{CARD}").json()
    same = client.post("/api/preview", json={"markdown": original.decode("utf-8"), "path": CARD}).json()
    assert same["html"] == view["html"] and same["sections"] == view["sections"] and same["title"] == view["title"]
    changed = client.post("/api/preview", json={"markdown": with_fleet(original.decode("utf-8"))}).json()
    assert FLEET_LINE in changed["html"] and 'id="ооо-ромашка-автопарк"' in changed["html"]
    raw = client.post("/api/preview", json={"markdown": "# T\n\n<script>x</script>\n"}).json()["html"]
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    broken = client.post("/api/preview", json={"markdown": "---\ntitle: [\n---\n# x\n"})
    assert broken.status_code == 400 and broken.json()["error"]["message"]
    assert file.read_bytes() == original and not list(demo_copy.content_dir.glob("**/preview.md"))


def test_lint_errors_block_the_save_with_their_lines(client: TestClient, demo_copy: Settings) -> None:
    file = demo_copy.content_dir / CARD
    original = file.read_bytes()
    source = client.get(f"/api/documents/{CARD}/source").json()
    text = source["markdown"].replace("owner: Дмитрий Соколов (d.sokolov@seversoft.example)\n", "") + (
        "\nСм. также [прайс](../products/nope.md).\n")
    r = client.put(f"/api/documents/{CARD}", json={"markdown": text, "version": source["version"]})
    assert r.status_code == 422, r.text
    errors = {(e["code"], e["line"]) for e in r.json()["errors"]}
    assert ("link-broken", line_of(text, "nope.md")) in errors and ("owner-missing", 1) in errors
    assert r.json()["error"]["code"] == "invalid_document" and file.read_bytes() == original
    # warnings do not block: a verified date in the future
    future = source["markdown"].replace("verified: 2026-09-15", "verified: 2027-01-01")
    ok = client.put(f"/api/documents/{CARD}", json={"markdown": future, "version": source["version"]}).json()
    assert [(w["code"], w["line"]) for w in ok["warnings"]] == [("verified-future", line_of(future, "verified:"))]


def test_a_change_that_breaks_links_elsewhere_is_saved_with_a_warning(client: TestClient,
                                                                        demo_copy: Settings) -> None:
    content = demo_copy.content_dir
    (content / "faq" / "romashka-links.md").write_text(
        "---\ntitle: Ссылки\ntype: faq\nowner: Анна\nverified: 2026-11-01\n---\n# Ссылки\n\n"
        "## Где условия оплаты?\n\n[Условия](../clients/romashka.md#ооо-ромашка-условия-оплаты).\n", "utf-8")
    assert lint(content, TODAY).errors == 0
    source = client.get(f"/api/documents/{CARD}/source").json()
    text = source["markdown"].replace("## Условия оплаты", "## Оплата")
    r = client.put(f"/api/documents/{CARD}", json={"markdown": text, "version": source["version"]}).json()
    assert [(w["path"], w["code"], w["severity"]) for w in r["warnings"]] == [
        ("faq/romashka-links.md", "link-broken", "warning")]


def test_a_stale_version_is_a_conflict_with_both_texts(client: TestClient, demo_copy: Settings) -> None:
    file = demo_copy.content_dir / CARD
    loaded = client.get(f"/api/documents/{CARD}/source").json()
    first = loaded["markdown"].replace("62 магазина", "64 магазина")
    ok = client.put(f"/api/documents/{CARD}", json={"markdown": first, "version": loaded["version"]})
    assert ok.status_code == 200
    second = loaded["markdown"].replace("62 магазина", "70 магазинов")
    r = client.put(f"/api/documents/{CARD}", json={"markdown": second, "version": loaded["version"]})
    assert r.status_code == 409
    body = r.json()
    assert body["error"]["code"] == "conflict" and body["yours"] == second and body["theirs"] == first
    assert body["version"] == sha(file.read_bytes()) and file.read_text("utf-8") == first
    # overwriting with yours: send it again with the version the conflict reported
    again = client.put(f"/api/documents/{CARD}", json={"markdown": second, "version": body["version"]})
    assert again.status_code == 200 and file.read_text("utf-8") == second


def test_line_endings_and_byte_order_mark_are_kept(client: TestClient, demo_copy: Settings) -> None:
    file = demo_copy.content_dir / "faq" / "crlf.md"
    file.write_bytes("\ufeff---\r\ntitle: CRLF\r\ntype: faq\r\nowner: Анна\r\nverified: 2026-11-01\r\n---\r\n"
                     "# CRLF\r\n\r\n## Вопрос?\r\n\r\nОтвет.\r\n".encode())
    client.post("/api/reindex")
    source = client.get("/api/documents/faq/crlf.md/source").json()
    assert source["markdown"].startswith("---\r\n")  # the text as it is, without the byte-order mark
    edited = source["markdown"].replace("\r\n", "\n").replace("Ответ.", "Новый ответ.")
    assert client.put("/api/documents/faq/crlf.md", json={"markdown": edited,
                                                          "version": source["version"]}).status_code == 200
    assert file.read_bytes().startswith(b"\xef\xbb\xbf---\r\n") and b"\r\n\r\n\xd0\x9d" in file.read_bytes()
    assert b"\n" not in file.read_bytes().replace(b"\r\n", b"")


def test_versions_in_a_plain_folder_are_listed_viewed_and_restored(client: TestClient,
                                                                     demo_copy: Settings) -> None:
    file = demo_copy.content_dir / CARD
    original = file.read_bytes()
    loaded = client.get(f"/api/documents/{CARD}/source").json()
    one = with_fleet(loaded["markdown"])
    v1 = client.put(f"/api/documents/{CARD}", json={"markdown": one, "version": loaded["version"],
                                                    "author": "Анна"}).json()["version"]
    two = one.replace("14 грузовиков", "16 грузовиков")
    client.put(f"/api/documents/{CARD}", json={"markdown": two, "version": v1, "author": "Борис"})

    versions = client.get(f"/api/documents/{CARD}/versions").json()
    assert [v["author"] for v in versions] == ["Борис", "Анна", "kb"]  # newest first; kb kept the text as it was
    assert [v["version"] for v in versions] == [sha(two.encode()), v1, sha(original)]
    assert versions[0]["at"] >= versions[1]["at"] >= versions[2]["at"] > 0
    kept = demo_copy.data_dir / "versions" / CARD
    assert len(list(kept.glob("*.md"))) == 3 and len(json.loads((kept / "index.json").read_text("utf-8"))) == 3
    assert all(p.name.endswith(f"-{v['version'][:12]}.md") for p, v in
               zip(sorted(kept.glob("*.md"), reverse=True), versions))

    oldest = versions[-1]["id"]
    assert client.get(f"/api/documents/{CARD}/versions/{oldest}").json()["markdown"] == original.decode("utf-8")
    restored = client.post(f"/api/documents/{CARD}/versions/{oldest}/restore", json={"author": "Вера"})
    assert restored.status_code == 200 and file.read_bytes() == original
    assert restored.json()["version"] == sha(original)
    after = client.get(f"/api/documents/{CARD}/versions").json()
    assert len(after) == 4 and after[0]["author"] == "Вера" and after[0]["version"] == sha(original)
    gone = client.post("/api/ask", json={"question": FLEET, "client": "romashka"}).json()
    assert not gone["answered"]  # reindexed: the fleet section is gone again
    assert client.get(f"/api/documents/{CARD}/versions/20990101T000000000000-abcdefabcdef").status_code == 404
    assert client.get(f"/api/documents/{CARD}/versions/..%2F..%2Findex").status_code == 404
    log = client.get("/api/audit").json()["entries"]
    assert any(e["action"] == "restore" and e["documents"] == [CARD] for e in log)


def test_versions_in_a_git_content_folder_are_commits(client: TestClient, demo_copy: Settings) -> None:
    content = demo_copy.content_dir
    git(content, "init", "-q")
    git(content, "add", "-A")
    git(content, "commit", "-q", "-m", "content")
    (content / "faq" / "untracked.md").write_text(
        "---\ntitle: Новое\ntype: faq\nowner: Анна\nverified: 2026-11-01\n---\n# Новое\n\n## Вопрос?\n\nОтвет.\n",
        "utf-8")
    file = content / CARD
    original = file.read_bytes()
    loaded = client.get(f"/api/documents/{CARD}/source").json()
    text = with_fleet(loaded["markdown"])
    saved = client.put(f"/api/documents/{CARD}", json={"markdown": text, "version": loaded["version"],
                                                       "author": "Анна Петрова (anna@example.com)"}).json()
    log = git(content, "log", "--format=%an|%ae|%s", "--", CARD).splitlines()
    assert log[0] == f"Анна Петрова|anna@example.com|kb: edit {CARD}" and len(log) == 2
    assert git(content, "status", "--porcelain").strip() == "?? faq/untracked.md"  # only the saved file committed

    listed = client.get(f"/api/documents/{CARD}/versions").json()
    assert [(v["author"], v["version"]) for v in listed] == [
        ("Анна Петрова", saved["version"]), ("Тест", sha(original))]
    assert saved["version"] == sha(text.encode()) and listed[0]["id"] == git(content, "rev-parse", "HEAD").strip()
    assert not (demo_copy.data_dir / "versions").exists()  # git keeps them, not the data folder
    first = listed[1]["id"]
    assert client.get(f"/api/documents/{CARD}/versions/{first}").json()["markdown"] == original.decode("utf-8")
    r = client.post(f"/api/documents/{CARD}/versions/{first}/restore", json={"version": "0" * 64})
    assert r.status_code == 409 and file.read_text("utf-8") == text
    r = client.post(f"/api/documents/{CARD}/versions/{first}/restore", json={"version": saved["version"]})
    assert r.status_code == 200 and file.read_bytes() == original
    assert len(git(content, "log", "--format=%H", "--", CARD).splitlines()) == 3
    assert git(content, "log", "-1", "--format=%an|%s").startswith(f"Editor|kb: restore {CARD}")

    # a file git does not track yet is added on its first save, its text before kb first
    src = client.get("/api/documents/faq/untracked.md/source").json()
    assert client.put("/api/documents/faq/untracked.md", json={
        "markdown": src["markdown"].replace("Ответ.", "Другой ответ."), "version": src["version"]}).status_code == 200
    assert git(content, "log", "--format=%an|%s", "--", "faq/untracked.md").splitlines() == [
        "Editor|kb: edit faq/untracked.md", "kb|before kb edits"]
    assert git(content, "status", "--porcelain").strip() == ""


def test_git_content_inside_a_bigger_repository(tmp_path: Path, demo_copy: Settings, embedder: Embedder) -> None:
    """The content folder may be a folder of a repository (docs as code): paths are the repository's."""
    repo = demo_copy.content_dir.parent
    git(repo, "init", "-q")
    git(repo, "add", "content")
    git(repo, "commit", "-q", "-m", "content")
    with TestClient(create_app(demo_copy, embedder, clock=lambda: TODAY)) as c:
        src = c.get(f"/api/documents/{CARD}/source").json()
        assert c.put(f"/api/documents/{CARD}", json={"markdown": with_fleet(src["markdown"]),
                                                     "version": src["version"]}).status_code == 200
        versions = c.get(f"/api/documents/{CARD}/versions").json()
        assert len(versions) == 2
        assert c.get(f"/api/documents/{CARD}/versions/{versions[1]['id']}").json()["markdown"] == src["markdown"]
    assert git(repo, "log", "-1", "--name-only", "--format=").strip() == f"content/{CARD}"


def test_new_documents_from_templates(client: TestClient, demo_copy: Settings) -> None:
    r = client.post("/api/documents", json={"type": "client", "title": "ООО «Новый Берег»", "owner": "Анна Петрова"})
    assert r.status_code == 201, r.text
    path = r.json()["path"]
    assert path == "clients/novyy-bereg.md" and r.json()["warnings"] == []
    text = (demo_copy.content_dir / path).read_text("utf-8")
    assert "type: client\nclient: novyy-bereg\n" in text and "owner: Анна Петрова\n" in text
    assert "verified: 2026-11-27" in text and "\n### Кто подписывает акты\n" in text
    assert client.post("/api/documents", json={"type": "client", "title": "ООО «Новый Берег»"}).status_code == 409
    faq = client.post("/api/documents", json={"type": "faq", "title": "Вопросы Нового Берега",
                                              "client": "novyy-bereg", "products": ["sklad-pro"]}).json()
    faq_text = (demo_copy.content_dir / faq["path"]).read_text("utf-8")
    assert faq["path"] == "faq/voprosy-novogo-berega.md" and "owner: Editor\n" in faq_text
    assert "products: [sklad-pro]" in faq_text
    orphan = client.post("/api/documents", json={"type": "faq", "title": "Чужие вопросы", "client": "nobody"})
    assert orphan.status_code == 422 and orphan.json()["errors"][0]["code"] == "client-card-missing"
    assert client.post("/api/documents", json={"type": "memo", "title": "X"}).status_code == 400
    assert client.post("/api/documents", json={"type": "faq", "title": "!!!"}).status_code == 400

    src = client.get(f"/api/documents/{path}/source").json()  # not indexed yet (no text), still editable
    filled = src["markdown"].replace("## Контакты и роли", "## Контакты и роли\n\nДиректор — Пётр Сидоров.")
    assert client.put(f"/api/documents/{path}", json={"markdown": filled, "version": src["version"]}).status_code == 200
    assert client.get(f"/api/documents/{path}").status_code == 200
    assert len(client.get(f"/api/documents/{path}/versions").json()) == 2
    log = client.get("/api/audit").json()["entries"]
    assert any(e["action"] == "create" and e["documents"] == [path] for e in log)


def test_paths_outside_the_content_folder_are_refused(client: TestClient, demo_copy: Settings,
                                                      tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: x\ntype: faq\nowner: x\n---\n# x\n\nsecret\n", "utf-8")
    (demo_copy.content_dir / "clients" / "link.md").symlink_to(outside)
    body = {"markdown": "---\ntitle: x\ntype: faq\nowner: x\n---\n# x\n\nowned\n", "version": sha(outside.read_bytes())}
    for bad in ("..%2F..%2Foutside.md", "clients%2F..%2F..%2F..%2Foutside.md", "%2Fetc%2Fpasswd.md",
                "clients/link.md", ".hidden/x.md", "clients%5C..%5C..%5Coutside.md"):
        assert client.put(f"/api/documents/{bad}", json=body).status_code in (400, 404), bad
        assert client.get(f"/api/documents/{bad}/source").status_code in (400, 404), bad
        assert client.get(f"/api/documents/{bad}/versions").status_code in (400, 404), bad
    assert client.put("/api/documents/clients/none.md", json=body).status_code == 404
    assert client.put("/api/documents/README", json=body).status_code in (404, 405)
    assert "owned" not in outside.read_text("utf-8")
    assert not (demo_copy.data_dir / "versions").exists() or not any((demo_copy.data_dir / "versions").rglob("*.md"))


def test_readers_cannot_edit_and_editors_only_what_they_may_read(demo_copy: Settings, embedder: Embedder) -> None:
    content = demo_copy.content_dir
    (content / "policies" / "floor.md").write_text(
        "---\ntitle: Минимальные цены\ntype: policy\nowner: Финдиректор\nverified: 2026-11-01\naccess: [management]\n"
        "---\n# Минимальные цены\n\n## Склад Про\n\nНе ниже 61 000 ₽.\n", "utf-8")
    users = Users(demo_copy.data_dir)
    reader = {"Authorization": "Bearer " + users.add("rita", "reader", ["sales"])}
    editor = {"Authorization": "Bearer " + users.add("eva", "editor", ["sales"])}
    with TestClient(create_app(demo_copy, embedder, clock=lambda: TODAY)) as c:
        c.post("/api/reindex", headers=editor)
        src = c.get(f"/api/documents/{CARD}/source", headers=editor).json()
        body = {"markdown": with_fleet(src["markdown"]), "version": src["version"], "author": "someone else"}
        for method, url, payload in (("GET", f"/api/documents/{CARD}/source", None),
                                     ("PUT", f"/api/documents/{CARD}", body),
                                     ("POST", "/api/preview", {"markdown": "# x"}),
                                     ("GET", f"/api/documents/{CARD}/versions", None),
                                     ("POST", "/api/documents", {"type": "faq", "title": "Читатель"})):
            assert c.request(method, url, json=payload, headers=reader).status_code == 403, url
            assert c.request(method, url, json=payload).status_code == 401, url
        assert (content / CARD).read_text("utf-8") == src["markdown"]
        assert c.get("/api/documents/policies/floor.md/source", headers=editor).status_code == 404
        assert c.put("/api/documents/policies/floor.md", json=body, headers=editor).status_code == 404

        assert c.put(f"/api/documents/{CARD}", json=body, headers=editor).status_code == 200
        versions = c.get(f"/api/documents/{CARD}/versions", headers=editor).json()
        assert versions[0]["author"] == "eva"  # the signed-in user, whatever the request says
        new = c.post("/api/documents", json={"type": "playbook", "title": "Встреча с закупками", "owner": "x"},
                     headers=editor).json()
        assert "owner: eva\n" in (content / new["path"]).read_text("utf-8")
        assert c.post(f"/api/documents/{CARD}/versions/{versions[-1]['id']}/restore",
                      headers=reader).status_code == 403
        # the web app's session needs its CSRF token for saves
        me = c.post("/auth/login", json={"token": editor["Authorization"][7:]}).json()
        src = c.get(f"/api/documents/{CARD}/source").json()
        again = {"markdown": src["markdown"] + "\n", "version": src["version"]}
        assert c.put(f"/api/documents/{CARD}", json=again).status_code == 403
        assert c.put(f"/api/documents/{CARD}", json=again, headers={"X-CSRF-Token": me["csrf"]}).status_code == 200


def test_documents_in_a_folder_named_versions_still_open(client: TestClient, demo_copy: Settings) -> None:
    folder = demo_copy.content_dir / "faq" / "versions"
    folder.mkdir()
    (folder / "a.md").write_text("---\ntitle: A\ntype: faq\nowner: Анна\nverified: 2026-11-01\n---\n# A\n\n"
                                 "## Вопрос про версии?\n\nОтвет про версии.\n", "utf-8")
    client.post("/api/reindex")
    assert client.get("/api/documents/faq/versions/a.md").json()["title"] == "A"
    assert client.get("/api/documents/faq/versions/a.md/source").json()["path"] == "faq/versions/a.md"
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/documents/{path}/source", "/api/preview", "/api/documents/{path}/versions",
              "/api/documents/{path}/versions/{version_id}/restore", "/api/documents"):
        assert p in paths, p


def test_when_git_cannot_commit_the_version_is_kept_in_the_data_folder(client: TestClient,
                                                                        demo_copy: Settings) -> None:
    content = demo_copy.content_dir
    git(content, "init", "-q")
    git(content, "add", "-A")
    git(content, "commit", "-q", "-m", "content")
    (content / ".git" / "index.lock").write_text("")  # another git command is running, as git sees it
    src = client.get(f"/api/documents/{CARD}/source").json()
    text = with_fleet(src["markdown"])
    r = client.put(f"/api/documents/{CARD}", json={"markdown": text, "version": src["version"]})
    assert r.status_code == 200 and (content / CARD).read_text("utf-8") == text
    assert [w["code"] for w in r.json()["warnings"]] == ["version-not-committed"]
    kept = sorted((demo_copy.data_dir / "versions" / CARD).glob("*.md"))
    assert [p.read_text("utf-8") for p in kept] == [text]
