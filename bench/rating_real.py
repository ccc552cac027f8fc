"""The rating on real full-length plays: public-domain Russian and English plays from the DraCor
corpora (CC0 TEI), each against the age band theatres and common practice give it.

The corpora are not in the repo: bring them with the search tool's ``fetch`` (github:dracor-org/
rusdracor and github:dracor-org/shakedracor land under /work/.mirror) or pass ``--mirrors``. Each
play is turned into plain play text (headings, a speaker cue line, speech, stage directions in
parentheses), read and rated with the default catalog. Run: python -m bench.rating_real
"""
from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

from chalicelib.rating import rate
from chalicelib.reading import read

ROOT = Path(__file__).resolve().parent.parent
AGES = ("0+", "6+", "12+", "16+", "18+")
# play -> (lowest, highest) acceptable rating
BANDS = {
    "rus": {"chekhov-predlozhenie": ("6+", "12+"), "chekhov-medved": ("6+", "12+"),
            "chekhov-chaika": ("12+", "16+"), "chekhov-vishnevyi-sad": ("6+", "12+"),
            "chekhov-tri-sestry": ("12+", "16+"), "chekhov-djadja-vanja": ("12+", "16+"),
            "gogol-revizor": ("6+", "12+"), "ostrovsky-groza": ("12+", "16+"), "gorky-na-dne": ("16+", "16+"),
            "gorky-vassa-zheleznova": ("12+", "16+"), "tolstoy-vlast-tmy": ("16+", "18+"),
            "pushkin-boris-godunov": ("12+", "16+"), "lermontov-maskarad": ("12+", "16+"),
            "mayakovsky-klop": ("12+", "16+"), "bulgakov-dni-turbinyh": ("12+", "16+"),
            "bulgakov-zojkina-kvartira": ("16+", "18+")},
    "shake": {"a-midsummer-nights-dream": ("6+", "12+"), "the-comedy-of-errors": ("6+", "12+"),
              "twelfth-night": ("6+", "12+"), "romeo-and-juliet": ("12+", "16+"), "hamlet": ("12+", "16+"),
              "macbeth": ("16+", "16+"), "othello": ("16+", "16+"), "titus-andronicus": ("16+", "18+")},
}
# Written down before the engine was first run on them (2026-12-06): 6 of 24 were in band on that
# first run. The calibration that followed looked at both sets: `--split holdout`.
HOLDOUT = {
    "rus": {"griboyedov-gore-ot-uma": ("6+", "12+"), "gogol-zhenitba": ("6+", "12+"),
            "fonvizin-nedorosl": ("6+", "12+"), "chekhov-jubilej": ("6+", "12+"), "chekhov-svadba": ("6+", "12+"),
            "bulgakov-ivan-vasilevich": ("6+", "12+"), "ostrovsky-snegurochka": ("6+", "12+"),
            "ostrovsky-bespridannitsa": ("12+", "16+"), "turgenev-mesjats-v-derevne": ("12+", "16+"),
            "chekhov-ivanov": ("12+", "16+"), "tolstoy-zhivoy-trup": ("12+", "16+"),
            "pushkin-mocart-i-saleri": ("12+", "16+"), "gorky-egor-bulychov-i-drugie": ("12+", "16+"),
            "bulgakov-beg": ("16+", "16+")},
    "shake": {"as-you-like-it": ("6+", "12+"), "much-ado-about-nothing": ("6+", "12+"), "the-tempest": ("6+", "12+"),
              "the-merry-wives-of-windsor": ("6+", "12+"), "loves-labors-lost": ("6+", "12+"),
              "the-taming-of-the-shrew": ("6+", "12+"), "the-merchant-of-venice": ("12+", "16+"),
              "julius-caesar": ("12+", "16+"), "king-lear": ("16+", "16+"), "richard-iii": ("16+", "16+")},
}
# Written down on 2026-12-06 after the calibration on the two sets above, before the engine ever
# ran on these: `--split fresh`.
FRESH = {
    "rus": {"ostrovsky-les": ("6+", "12+"), "ostrovsky-volki-i-ovtsy": ("6+", "12+"),
            "chekhov-tragik-ponevole": ("6+", "12+"), "gogol-igroki": ("12+", "16+"),
            "turgenev-nahlebnik": ("12+", "16+"), "chekhov-leshii": ("12+", "16+"), "mayakovsky-banja": ("12+", "16+"),
            "sukhovo-kobylin-svadba-krechinskogo": ("12+", "16+"), "pushkin-kamenniy-gost": ("12+", "16+"),
            "pushkin-pir-vo-vremja-chumy": ("12+", "16+"), "lermontov-strannyj-chelovek": ("12+", "16+")},
    "shake": {"two-gentlemen-of-verona": ("6+", "12+"), "henry-v": ("12+", "16+"), "coriolanus": ("12+", "16+"),
              "antony-and-cleopatra": ("12+", "16+"), "alls-well-that-ends-well": ("12+", "16+"),
              "the-winters-tale": ("12+", "16+"), "timon-of-athens": ("12+", "16+"),
              "measure-for-measure": ("16+", "16+"), "troilus-and-cressida": ("16+", "16+")},
}
TEI = "{http://www.tei-c.org/ns/1.0}"


def _text(el) -> str:  # noqa: ANN001 - an lxml element
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


def play_text(tei: bytes, form: str = "cue") -> str:
    """The play as plain text: ``cue`` puts the speaker's name in capitals on a line of its own,
    ``prefix`` prints ``Имя. Текст`` as most Russian sites do."""
    from lxml import etree

    body = etree.fromstring(tei).find(f".//{TEI}text/{TEI}body")
    out: list[str] = []
    speaker = None
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        tag, parent = etree.QName(el).localname, el.getparent()
        parent_tag = etree.QName(parent).localname if parent is not None else ""
        if tag == "head":
            out += ["", _text(el).upper(), ""]
        elif tag == "speaker":
            speaker = _text(el).rstrip(".")
            out += [""] if form == "prefix" else ["", speaker.upper()]
        elif tag in ("p", "l") and parent_tag in ("sp", "lg"):
            out.append(f"{speaker.title()}. {_text(el)}" if form == "prefix" and speaker else _text(el))
            speaker = None
        elif tag == "stage" and parent_tag not in ("p", "l", "speaker"):
            out.append("(" + _text(el).strip("()").rstrip(").") + ")")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirrors", default="/work/.mirror", help="where dracor-org+<corpus>dracor/repo live")
    parser.add_argument("--catalog", choices=("default", "studio"), default="default",
                        help="the project's catalog or the client's workbook (../shared/data/classification_events.xlsx)")
    parser.add_argument("--form", choices=("cue", "prefix"), default="cue",
                        help="speaker's name on its own line in capitals, or 'Имя. Текст'")
    parser.add_argument("--show", action="store_true", help="the findings that set each rating")
    parser.add_argument("--split", choices=("tuned", "holdout", "fresh", "all"), default="all",
                        help="the first plays, the second (both used in the calibration), the fresh ones, or all")
    args = parser.parse_args()
    from bench.analyze_eval import client_catalog, default_catalog

    catalog = client_catalog() if args.catalog == "studio" else default_catalog()
    inside = total = 0
    sets = {"tuned": [BANDS], "holdout": [HOLDOUT], "fresh": [FRESH], "all": [BANDS, HOLDOUT, FRESH]}[args.split]
    for corpus, plays in ((c, p) for bands in sets for c, p in bands.items()):
        repo = Path(args.mirrors) / f"dracor-org+{corpus}dracor" / "repo"
        for name, (low, high) in plays.items():
            tei = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:tei/{name}.xml"], capture_output=True,
                                 check=True).stdout
            text = play_text(tei, args.form)
            rating = rate(read(text.encode(), f"{name}.txt"), catalog)
            ok = AGES.index(low) <= AGES.index(rating.rating) <= AGES.index(high)
            inside, total = inside + ok, total + 1
            print(f"{name:28} {len(text) // 1000:4d} KB  band {low}–{high:4}  rated {rating.rating:4} "
                  f"{'in' if ok else 'OUT'}")
            if args.show:
                for f in rating.findings:
                    if f.age == rating.rating:
                        print(f"      {f.category} {f.severity} {list(f.qualifiers)}: {f.excerpt[:100]!r}")
    print(f"in band: {inside} of {total}")


if __name__ == "__main__":
    main()
