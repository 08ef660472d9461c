"""Grammars of the code-switching corpus (egs/codeswitch): English, Japanese, Mandarin, and
Japanese-English / Japanese-Mandarin / Mandarin-English code-switched sentences (slides 001).

Japanese is written in kana only (espeak-ng 1.52 reads kana, not kanji), Mandarin in hanzi
(the ``cmn`` voice), English in lowercase Latin letters (the mini_espeak grammar,
:mod:`chain.corpora.mini_espeak`). A code-switched sentence is a sentence of its matrix
language whose noun, adjective or adjective-noun slots are partly filled with English
words, e.g. ``これはstill waterですか？`` ("Speech chain for semi-supervised learning of
Japanese-English code-switching ASR and TTS", SLT 2018); a few English-matrix templates
embed Japanese nouns. Japanese-Mandarin sentences embed hanzi words in Japanese templates
(and one in five the other way round), as the Ja-Zh data of the multilingual chain ("Zero-shot
code-switching ASR and TTS with the multilingual machine speech chain", ASRU 2019). Every
sentence is a list of :class:`chain.text.langtags.Segment`.
"""
from __future__ import annotations

import random
import re
from typing import Callable, NamedTuple

from chain.corpora import mini_espeak
from chain.text.langtags import Segment

_SLOT = re.compile(r"\{(\w+)\}")
EMBEDDABLE = ("n", "an", "a")  # slots that may take words of the embedded language


class Grammar(NamedTuple):
    """Templates of one matrix language and the words of each slot (``an``: adjective + noun)."""

    lang: str
    templates: tuple[str, ...]
    words: dict[str, tuple[str, ...]]
    an: Callable[[str, str], str]  # adjective, noun -> adjective-noun phrase


def _w(text: str) -> tuple[str, ...]:
    return tuple(text.split())


JA = Grammar("ja", templates=(
    "{n}は{a}です。", "これは{n}ですか？", "それは{an}ですね。", "{name}は{n}を{v}。",
    "{name}は{place}で{n}を{v}。", "わたしは{n}がすきです。", "{place}に{an}がありますか？",
    "きのう{name}と{n}を{v}。", "この{n}はとても{a}です。", "{n}と{n}をください。",
    "{name}の{n}はどこですか？", "あした、{place}で{an}をみます。"),
    words=dict(
        n=_w("いぬ ねこ とり うま さかな ほん くるま でんしゃ えき みず おちゃ ごはん パン りんご みかん "
             "かばん くつ ぼうし てがみ でんわ テレビ カメラ コーヒー ケーキ やま かわ うみ はな いえ へや "
             "まど つくえ いす がっこう せんせい ともだち こども おかし すし ラーメン ノート ペン"),
        a=_w("おおきい ちいさい あたらしい ふるい あかい あおい しろい くろい たかい やすい おいしい "
             "たのしい むずかしい やさしい はやい おそい あつい さむい"),
        v=_w("みました かいました たべました のみました よみました かきました つくりました もちました "
             "あらいました あけました うりました さがしました わすれました"),
        name=_w("たなかさん やまださん すずきさん さとうさん きむらさん はやしさん いとうさん なかむらさん"),
        place=_w("とうきょう おおさか きょうと なら こうべ よこはま さっぽろ ふくおか")),
    an=lambda a, n: a + n)

ZH = Grammar("zh", templates=(
    "{n}很{a}。", "这是{n}吗？", "那是{an}。", "{name}{v}{n}。", "{name}在{place}{v}{n}。",
    "我很喜欢{n}。", "{place}有{an}吗？", "昨天{name}和我{v}{n}。", "这个{n}非常{a}。",
    "请给我{n}和{n}。", "{name}的{n}在哪里？", "明天，{name}去{place}买{an}。"),
    words=dict(
        n=_w("苹果 桌子 电话 书 猫 狗 鸟 马 鱼 水 茶 咖啡 面包 汽车 火车 学校 老师 学生 朋友 房子 花 "
             "电脑 手机 椅子 衣服 帽子 鞋子 蛋糕 电视 照相机"),
        a=_w("大 小 新 旧 好 红 白 黑 贵 便宜 快 慢 热 冷 漂亮 高"),
        v=_w("看了 买了 吃了 喝了 找到了 拿了 卖了 写了 读了 做了 洗了 打开了"),
        name=_w("小明 小红 王老师 李先生 张小姐 刘同学 陈先生 赵老师"),
        place=_w("北京 上海 广州 南京 杭州 西安 天津 深圳")),
    an=lambda a, n: f"{a}的{n}")

# The English words that other languages embed, and English-matrix templates embedding Japanese.
EN = Grammar("en", templates=(
    "i like {n} very much.", "{name} bought {n} in {place}.", "where is the {n}?",
    "we ate {n} and {n} yesterday."),
    words=dict(n=tuple(mini_espeak.NOUNS), a=tuple(mini_espeak.ADJECTIVES),
               name=tuple(mini_espeak.NAMES), place=tuple(mini_espeak.PLACES)),
    an=lambda a, n: f"{a} {n}")

ENGLISH_PUNCTUATION = ",:'?.-"


def charset() -> str:
    """Every character a sentence of :func:`sentence` can hold (the space excluded):
    the inventory of egs/codeswitch, in a fixed order."""
    out: dict[str, None] = {}
    for char in sorted(mini_espeak.ALPHABET - {" "}):
        out.setdefault(char, None)
    for grammar in (JA, ZH, EN):
        for text in (*grammar.templates, *(w for words in grammar.words.values() for w in words)):
            for char in _SLOT.sub("", text):
                if not char.isspace():
                    out.setdefault(char, None)
    return "".join(out)


def _fill(grammar: Grammar, rng: random.Random, embed: Grammar | None,
          min_embedded: int = 1, max_embedded: int = 2) -> list[Segment]:
    """A template of ``grammar`` with its slots filled; with ``embed``, 1-2 of the
    embeddable slots take ``embed``'s words (templates without such slots are redrawn)."""
    while True:
        template = rng.choice(grammar.templates)
        slots = list(_SLOT.finditer(template))
        embeddable = [i for i, m in enumerate(slots) if m.group(1) in EMBEDDABLE]
        if embed is None or embeddable:
            break
    chosen: set[int] = set()
    if embed is not None:
        k = rng.randint(min_embedded, min(max_embedded, len(embeddable)))
        chosen = set(rng.sample(embeddable, k))
    segments, pos = [], 0
    for i, m in enumerate(slots):
        if m.start() > pos:
            segments.append(Segment(grammar.lang, template[pos:m.start()]))
        source = embed if i in chosen else grammar
        slot = m.group(1)
        if slot == "an":
            word = source.an(rng.choice(source.words["a"]), rng.choice(source.words["n"]))
        else:
            word = rng.choice(source.words[slot])
        segments.append(Segment(source.lang, word))
        pos = m.end()
    if pos < len(template):
        segments.append(Segment(grammar.lang, template[pos:]))
    merged: list[Segment] = []
    for seg in segments:  # one segment per run of a language
        if merged and merged[-1].lang == seg.lang:
            merged[-1] = Segment(seg.lang, merged[-1].text + seg.text)
        else:
            merged.append(seg)
    return merged


KINDS = ("en", "ja", "zh", "ja-en", "ja-zh", "zh-en")


def sentence(kind: str, rng: random.Random) -> list[Segment]:
    """One sentence of ``kind``: monolingual ``en``, ``ja``, ``zh``, or code-switched ``ja-en``
    (Japanese matrix, English embedded; one in five the other way round), ``ja-zh`` (the
    same with Mandarin) or ``zh-en`` (Mandarin matrix)."""
    if kind == "en":
        return [Segment("en", mini_espeak.sample_sentence(rng))]
    if kind == "ja":
        return _fill(JA, rng, None)
    if kind == "zh":
        return _fill(ZH, rng, None)
    if kind == "ja-en":
        return _fill(EN, rng, JA) if rng.random() < 0.2 else _fill(JA, rng, EN)
    if kind == "ja-zh":
        return _fill(ZH, rng, JA) if rng.random() < 0.2 else _fill(JA, rng, ZH)
    if kind == "zh-en":
        return _fill(ZH, rng, EN)
    raise ValueError(f"sentence kind must be one of {', '.join(KINDS)}: got {kind!r}")


def sentences(kind: str, num: int, rng: random.Random, seen: set[str]) -> list[list[Segment]]:
    """``num`` sentences of ``kind`` not in ``seen`` (which grows), each distinct."""
    out: list[list[Segment]] = []
    for _ in range(50 * num + 1000):
        if len(out) == num:
            return out
        segments = sentence(kind, rng)
        key = "".join(s.text for s in segments)
        if key not in seen:
            seen.add(key)
            out.append(segments)
    raise ValueError(f"the {kind} grammar gave only {len(out)} new distinct sentences, "
                     f"{num} were asked for: ask for fewer")
