"""Chinese text processing: segmentation, synonyms and similarity.

Text is normalised (NFKC, lower case), segmented with rjieba in search mode
(a long word also yields its sub-words) and every token is mapped to the first
term of its synonym group. The same function runs when an entry is written
and when a query arrives, so both sides meet on the same tokens.

Each tenant may add words and synonym groups (`knowledge.vocabulary` builds a
tenant's segmenter from them); this module knows nothing of tenants.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import rjieba

MAX_TOKEN_CHARS = 48
MAX_INPUT_CHARS = 20_000

# Function words and question fillers that say nothing about the topic.
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads best as text
        "的 了 吗 呢 吧 啊 呀 哦 嘛 哈 么 是 在 有 和 与 及 或 就 都 也 还 又 再 很 太 更 最 "
        "我 你 您 他 她 它 我们 你们 他们 咱 自己 这 那 这个 那个 这样 那样 这里 那里 这边 "
        "一 一个 一下 一点 一些 个 些 下 点 把 被 给 让 对 从 向 到 为 跟 等 之 其 该 各 每 "
        "怎么 怎么办 怎样 怎么样 如何 什么 为什么 为何 哪 哪里 哪儿 哪个 多少 几 能否 是否 "
        "可以 可 能 会 要 想 需要 应该 请 请问 麻烦 谢谢 一直 已经 现在 刚才 今天 昨天 还是 "
        "然后 但是 可是 而且 因为 所以 如果 就是 还有 没 没有 不是 不能 不会 不了 不行 时候 时 "
        "a an the to of in on at for is are be i my me you your it how what why can do does "
        "please with and or not"
    ).split()
)

_WORD_RE = re.compile(r"[^\W_]+")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")[:MAX_INPUT_CHARS].lower()


def _index_form(term: str) -> str:
    """The form a term takes in the index: word characters only."""
    return "".join(_WORD_RE.findall(normalise(term)))


@dataclass(frozen=True)
class Vocabulary:
    """A tenant's extra words and synonym groups (the first term of a group is canonical)."""

    words: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.words and not self.synonyms


@dataclass
class Segmenter:
    vocabulary: Vocabulary = field(default_factory=Vocabulary)

    def __post_init__(self) -> None:
        self._jieba = rjieba.Jieba()
        self._canonical: dict[str, str] = {}
        phrases: dict[str, str] = {}
        for group in self.vocabulary.synonyms:
            forms = [_index_form(term) for term in group]
            forms = [form for form in forms if form]
            if not forms:
                continue
            for term, form in zip(group, forms, strict=False):
                self._canonical.setdefault(form, forms[0])
                if normalise(term).strip() != form:
                    phrases[normalise(term).strip()] = form
        for word in self.vocabulary.words:
            form = _index_form(word)
            if form and normalise(word).strip() != form:
                phrases[normalise(word).strip()] = form
        words = {_index_form(w) for w in self.vocabulary.words} | set(self._canonical)
        for word in words:
            if word and _CJK_RE.search(word):
                self._jieba.add_word(word, None, None)
        # Multi-word and punctuated terms ("log in", "T-BOX") become one token before
        # segmentation; the longest first so that "log in" wins over "log".
        ordered = sorted(phrases, key=len, reverse=True)
        self._phrase_re = (
            re.compile("|".join(re.escape(p) for p in ordered if p)) if ordered else None
        )
        self._phrases = phrases

    def surface_tokens(self, text: str) -> list[str]:
        """Word tokens of `text` as written (normalised), before synonym mapping."""
        text = normalise(text)
        if self._phrase_re is not None:
            text = self._phrase_re.sub(lambda m: f" {self._phrases[m.group(0)]} ", text)
        tokens = []
        for piece in self._jieba.cut_for_search(text):
            for word in _WORD_RE.findall(piece):
                if len(word) <= MAX_TOKEN_CHARS:
                    tokens.append(word)
        return tokens

    def canonical(self, token: str) -> str:
        """The index form of a token under this vocabulary's synonym groups."""
        form = _index_form(token)
        return self._canonical.get(form, form)

    def maps(self, token: str) -> bool:
        """Whether this vocabulary's synonym groups know the (index-form) token."""
        return token in self._canonical

    def segment(self, text: str) -> list[str]:
        """Index tokens of `text`: segmented, synonyms mapped, stopwords removed."""
        result = []
        for token in self.surface_tokens(text):
            token = self._canonical.get(token, token)
            if token not in STOPWORDS:
                result.append(token)
        return result


_default_segmenter: Segmenter | None = None
_lock = threading.Lock()


def default_segmenter() -> Segmenter:
    """The segmenter of tenants without a vocabulary of their own."""
    global _default_segmenter
    with _lock:
        if _default_segmenter is None:
            _default_segmenter = Segmenter()
        return _default_segmenter


@functools.lru_cache(maxsize=65536)
def token_weight(token: str) -> float:
    """How much a token says about the topic: single Chinese characters little, codes much."""
    if _CJK_RE.search(token):
        return 0.3 if len(token) == 1 else (1.0 if len(token) == 2 else 1.3)
    if any(ch.isdigit() for ch in token) and any(ch.isalpha() for ch in token):
        return 1.5
    return 0.3 if len(token) == 1 else 1.0


def weighted_cosine(a: Iterable[str], b: Iterable[str]) -> float:
    ca, cb = Counter(a), Counter(b)
    if not ca or not cb:
        return 0.0
    dot = sum(token_weight(t) ** 2 * n * cb[t] for t, n in ca.items() if t in cb)
    na = math.sqrt(sum((token_weight(t) * n) ** 2 for t, n in ca.items()))
    nb = math.sqrt(sum((token_weight(t) * n) ** 2 for t, n in cb.items()))
    return dot / (na * nb)


def coverage(query: Sequence[str], tokens: set[str]) -> float:
    """Share (by weight) of the distinct query tokens found in `tokens`."""
    distinct = set(query)
    total = sum(token_weight(t) for t in distinct)
    if not total:
        return 0.0
    return sum(token_weight(t) for t in distinct if t in tokens) / total
