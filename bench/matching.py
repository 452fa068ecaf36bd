"""Benchmark: the alerts matcher against a naive loop of compiled regular expressions.

Generates a realistic rule mix (names as phrases, wildcards, boolean groups with NOT,
proximity, field and language restrictions) and news-length articles in Dutch, German,
French and English, then prints articles per second for both, and their ratio, on one core.
Normalisation and boolean evaluation are included in the engine's figure.

    .venv/bin/python -m bench.matching         # 1,000 and 10,000 rules, 2,000 articles
    .venv/bin/python -m bench.matching --quick    # a smaller run for a smoke test
"""

from __future__ import annotations

import argparse
import random
import re
import time

from alerts.matching import ArticleText, Matcher, RuleSpec, prepare
from alerts.normalize import fold
from alerts.query import And, Near, Node, Not, Or, Term, parse_query

SYLLABLES = (
    "ka ri mo ben ali ter van der bos tyn ham mou chi sur ete ak ti ons plan ma ro ko".split()
)
SYLLABLES += "lu ne sta de gor vel ber an to nio ze lin dra mi ko la schu ma cher ot to wer".split()
FUNCTION_WORDS = {
    "nl": "de het een en van in op met voor dat niet is zijn werd door naar bij ook".split(),
    "de": "der die das und von in auf mit für dass nicht ist sind wurde durch nach bei".split(),
    "fr": "le la les et de des un une dans sur avec pour que pas est sont été par à".split(),
    "en": "the a an and of in on with for that not is are was by to at also".split(),
}
ACCENTED = "Sûreté État réseau Straße Behörde Ministère führte über précédé écrit".split()
COUNTRIES = "Marokko Belgien Morocco Belgique België Nederland France Spanje Algérie".split()


def pseudo_word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables))


def entities(rng: random.Random, count: int) -> list[str]:
    """Names and topic words that rules watch for; some appear in the articles."""
    return [pseudo_word(rng, rng.randint(3, 4)).capitalize() for _ in range(count)]


def make_rules(rng: random.Random, count: int, pool: list[str]) -> list[str]:
    queries = []
    for _ in range(count):
        a, b, c = rng.sample(pool, 3)
        kind = rng.random()
        if kind < 0.35:
            queries.append(f'"{a} {b}"')
        elif kind < 0.50:
            queries.append(f"{a[:7]}*")
        elif kind < 0.60:
            queries.append(f'"{a}-{b}" OR {a}{b.lower()}')
        elif kind < 0.80:
            country = rng.choice(COUNTRIES)
            queries.append(f'{a}* AND ({country} OR "{b} {c}") -{rng.choice(pool)}')
        elif kind < 0.90:
            queries.append(f'"{a} {b}"~10')
        elif kind < 0.95:
            queries.append(f"title:{a} OR (text:{b} AND {c})")
        else:
            queries.append(f"lang:{rng.choice(list(FUNCTION_WORDS))} AND ({a} OR {b})")
    return queries


def make_articles(rng: random.Random, count: int, pool: list[str]) -> list[ArticleText]:
    articles = []
    for _ in range(count):
        language = rng.choice(list(FUNCTION_WORDS))
        common = FUNCTION_WORDS[language]
        sentences = []
        length = 0
        while length < 4000:  # about 4 KB, a news article
            words = []
            for _ in range(rng.randint(8, 22)):
                roll = rng.random()
                if roll < 0.55:
                    words.append(rng.choice(common))
                elif roll < 0.57:
                    words.append(rng.choice(pool))
                elif roll < 0.59:
                    words.append(rng.choice(COUNTRIES))
                elif roll < 0.62:
                    words.append(rng.choice(ACCENTED))
                elif roll < 0.64:
                    words.append(f"{pseudo_word(rng, 2)}-{pseudo_word(rng, 2)}")
                else:
                    words.append(pseudo_word(rng, rng.randint(1, 3)))
            sentence = " ".join(words).capitalize() + rng.choice([".", ".", ",", "?", ":"])
            sentences.append(sentence)
            length += len(sentence) + 1
        title = " ".join(rng.choice(pool + common) for _ in range(8))
        articles.append(ArticleText(title, " ".join(sentences), language, "bench", ("news",)))
    return articles


def naive_compile(node: Node):
    """Each term a compiled regular expression, each rule a tree walked per article."""
    if isinstance(node, Term):
        pattern = r"[\s-]?".join(map(re.escape, node.words))
        regex = re.compile(rf"\b{pattern}" + ("" if node.prefix else r"\b"))
        return lambda text: regex.search(text) is not None
    if isinstance(node, Near):
        parts = [naive_compile(term) for term in node.terms]
        return lambda text: all(part(text) for part in parts)  # generous: no distance check
    if isinstance(node, And | Or):
        parts = [naive_compile(child) for child in node.children]
        combine = all if isinstance(node, And) else any
        return lambda text: combine(part(text) for part in parts)
    if isinstance(node, Not):
        inner = naive_compile(node.child)
        return lambda text: not inner(text)
    return lambda text: True  # language restrictions: free for the baseline


def run(rule_count: int, articles: list[ArticleText], naive_articles: int, seed: int) -> None:
    rng = random.Random(seed)
    pool = entities(random.Random(seed), 20_000)
    queries = make_rules(rng, rule_count, pool)
    started = time.perf_counter()
    specs = [RuleSpec(f"rule-{index}", parse_query(query)) for index, query in enumerate(queries)]
    parsed = time.perf_counter()
    matcher = Matcher(specs)
    built = time.perf_counter()
    hits = 0
    for article in articles:
        hits += len(matcher.match(prepare(article)))
    engine_seconds = time.perf_counter() - built
    engine_rate = len(articles) / engine_seconds

    checks = [naive_compile(spec.query.root) for spec in specs]
    naive_hits = 0
    sample = articles[:naive_articles]
    started_naive = time.perf_counter()
    for article in sample:
        text = fold(f"{article.title}\n{article.body}")
        naive_hits += sum(1 for check in checks if check(text))
    naive_rate = len(sample) / (time.perf_counter() - started_naive)
    print(
        f"{rule_count:>6} rules: parse {parsed - started:5.2f} s, build {built - parsed:5.2f} s | "
        f"engine {engine_rate:8.0f} articles/s ({hits / len(articles):.2f} hits/article) | "
        f"naive regex loop {naive_rate:7.2f} articles/s over {len(sample)} | "
        f"ratio {engine_rate / naive_rate:6.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rules and articles")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    pool = entities(random.Random(options.seed), 20_000)
    article_count = 300 if options.quick else 2_000
    articles = make_articles(rng, article_count, pool)
    mean = sum(len(a.body) for a in articles) / len(articles)
    print(f"{len(articles)} articles, {mean:.0f} characters of text on average")
    runs = [(200, 40), (1_000, 15)] if options.quick else [(1_000, 60), (10_000, 8)]
    for rule_count, naive_articles in runs:
        run(rule_count, articles, naive_articles, options.seed)


if __name__ == "__main__":
    main()
