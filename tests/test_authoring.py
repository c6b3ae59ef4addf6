"""Templates and the content linter: `kb new` writes documents that pass `kb lint`; broken ones are found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.authoring import render, slug
from kb.cli import main
from kb.embedding import Embedder
from kb.lint import lint
from kb.markdown import parse

from .conftest import ROOT, TODAY

OWNER = "Анна Петрова (a.petrova@seversoft.example)"
HEAD = "---\ntitle: {title}\ntype: {type}\nowner: " + OWNER + "\nverified: 2026-10-01\n{extra}---\n"

# (file, text, expected findings as (line, code))
BROKEN = [
    ("clients/no-front.md", "# Без шапки\n\nТекст.\n", [(1, "front-matter-missing")]),
    ("clients/bad-yaml.md", "---\ntitle: [oops\ntype: client\n---\n# T\n\nТекст.\n", [(3, "front-matter-invalid")]),
    ("policies/memo.md", HEAD.format(title="Памятка", type="memo", extra="") + "# Памятка\n\nТекст.\n",
     [(3, "type-unknown")]),
    ("policies/nobody.md", "---\ntitle: Ничья\ntype: policy\nverified: 2026-10-01\n---\n# Ничья\n\nТекст.\n",
     [(1, "owner-missing")]),
    ("policies/dates.md", HEAD.format(title="Даты", type="policy", extra="review_every: soon\n").replace(
        "2026-10-01", "15.09.2026") + "# Даты\n\nТекст.\n", [(5, "verified-invalid"), (6, "review-every-invalid")]),
    ("faq/orphan.md", HEAD.format(title="FAQ", type="faq", extra="client: nobody\n")
     + "# FAQ\n\n## Вопрос?\n\nОтвет.\n", [(6, "client-card-missing")]),
    ("clients/no-id.md", HEAD.format(title="Без id", type="client", extra="") + "# Без id\n\nТекст.\n",
     [(3, "client-missing")]),
    ("clients/twice.md", HEAD.format(title="Дважды", type="client", extra="client: twice\n")
     + "# Дважды\n\n## Договор\n\nПервый.\n\n## Договор\n\nВторой.\n", [(14, "heading-duplicate")]),
    ("policies/links.md", HEAD.format(title="Ссылки", type="policy", extra="")
     + "# Ссылки\n\nСм. [карточку](../clients/twice.md), [раздел](../clients/twice.md#дважды-договор),\n"
       "[сайт](https://example.com) и [почту](mailto:a@b.example).\n\n"
       "Нет [файла](../clients/none.md) и нет [раздела](../clients/twice.md#нет-такого).\n",
     [(12, "link-broken"), (12, "link-broken")]),
    ("policies/long.md", HEAD.format(title="Длинный", type="policy", extra="") + "# Длинный\n\n"
     + " ".join(["Клиент просил доставку на склад в Казани до конца месяца."] * 20) + "\n", [(7, "section-too-long")]),
    ("policies/empty.md", HEAD.format(title="Пустой", type="policy", extra="") + "# Пустой\n", [(1, "empty")]),
    ("notes.txt", "просто текст", [(1, "not-markdown")]),
]


def test_a_folder_of_broken_documents_yields_the_expected_findings(tmp_path: Path, embedder: Embedder) -> None:
    for name, text, _ in BROKEN:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    report = lint(tmp_path, TODAY, count=embedder.count_tokens, budget=120)
    found = sorted((f.path, f.line, f.code) for f in report.findings)
    assert found == sorted((name, line, code) for name, _, expected in BROKEN for line, code in expected)
    assert report.errors == len(found) - 3  # section-too-long, empty and not-markdown are warnings
    messages = {f.code: f.message for f in report.findings}
    assert "nobody" in messages["client-card-missing"] and "memo" in messages["type-unknown"]


def test_the_demo_content_lints_clean(embedder: Embedder) -> None:
    report = lint(ROOT / "content", TODAY, count=embedder.count_tokens, budget=min(320, embedder.max_tokens - 16))
    assert report.errors == 0, [str(f) for f in report.findings]


@pytest.mark.parametrize(("title", "expected"), [
    ("ООО «Ромашка»", "romashka"), ("АО Нева-Фарм", "neva-farm"), ("Balkan Soft d.o.o.", "balkan-soft"),
    ("ТД «Полимер»", "polimer"), ("Склад Про", "sklad-pro"),
])
def test_slugs(title: str, expected: str) -> None:
    assert slug(title, drop_legal_forms=True) == expected


def test_templates_are_valid_and_invisible_until_filled() -> None:
    text = render("client", "ООО «Ромашка»", OWNER, TODAY, client="romashka", products=("sklad-pro",))
    doc = parse(text, "clients/romashka.md")
    assert (doc.meta.type, doc.meta.client, doc.meta.owner, doc.meta.verified) == ("client", "romashka", OWNER,
                                                                                    "2026-11-27")
    assert doc.meta.products == ("sklad-pro",) and doc.title == "ООО «Ромашка»"
    assert doc.sections == ()  # only headings and hints: nothing to index (or to show in a brief) yet
    assert "## Условия оплаты" in text and "## Контакты и роли" in text and "[//]: # (" in text


def test_kb_new_output_passes_kb_lint(tmp_path: Path, embedder: Embedder) -> None:
    runner = CliRunner()
    content = ["--content", str(tmp_path)]
    made = []
    for args in (["client", "ООО «Ромашка»"], ["product", "Склад Лайт", "--products", "sklad-lite"],
                 ["policy", "Командировки"], ["faq", "FAQ: Ромашка", "--client", "romashka"],
                 ["playbook", "Первый звонок"]):
        result = runner.invoke(main, ["new", *args, "--owner", OWNER, *content, "--json"])
        assert result.exit_code == 0, result.output
        made.append(json.loads(result.stdout)["path"])
    assert made == ["clients/romashka.md", "products/sklad-layt.md", "policies/komandirovki.md", "faq/faq-romashka.md",
                    "playbooks/pervyy-zvonok.md"]
    again = runner.invoke(main, ["new", "client", "ООО «Ромашка»", "--owner", OWNER, *content])
    assert again.exit_code == 2 and "already exists" in again.output
    result = runner.invoke(main, ["lint", *content, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["errors"] == 0 and {f["code"] for f in data["findings"]} == {"empty"}

    (tmp_path / "faq" / "orphan.md").write_text(
        "---\ntitle: X\ntype: faq\nclient: nobody\nowner: A (a@b.example)\nverified: 2026-10-01\n---\n# X\n\nТекст.\n",
        encoding="utf-8")
    failed = runner.invoke(main, ["lint", *content, "--no-length"])
    assert failed.exit_code == 1
    assert "faq/orphan.md:4: error [client-card-missing]" in failed.output
