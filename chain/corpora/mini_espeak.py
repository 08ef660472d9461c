"""The embedded corpus ``mini_espeak``: sentences from a small grammar spoken by espeak-ng.

Runs anywhere with no download. :func:`generate_sentences` draws distinct lowercase
sentences of 2-12 words from the templates below (statements, questions, commas,
colons, apostrophes, hyphenated numbers), every character in the paper's set
``a-z ,:'?.-``. :func:`make_corpus` gives each sentence to one speaker (an espeak-ng
voice, :func:`speaker_voices`), synthesises 16 kHz wavs in parallel processes and
writes the Kaldi data dirs of docs/data.md: ``train_paired``,
``train_speech_only``, ``train_text_only``, ``train_full``, ``dev``, ``test``, plus
``local/phones.ctm`` (phone alignments), ``local/corpus.txt`` and ``local/spk2voice``.
With ``paired_speakers`` (the multi-speaker setting, :func:`split_voice_groups`) the
voices are split instead: ``test`` gives way to ``test_seen`` and ``test_unseen``.
"""
from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import NamedTuple

from chain.corpora.espeak import SAMPLE_RATE
from chain.corpora.espeak_batch import Job, synthesise
from chain.data.datadir import DataDir, write_kv
from chain.data.split import shuffle_split, split_corpus, write_sets
from chain.fileio import atomic_write

ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz ,:'?.-")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland")
VARIANT_ORDER = ("m1", "f1", "m2", "f2", "m3", "f3", "m4", "f4", "m5", "f5", "m6", "m7")
MAX_SPEAKERS = len(ACCENTS) * len(VARIANT_ORDER)
BLOCK_PITCH = (50, 35, 65)
HELD_OUT_MIN_SPEAKERS = 10  # from this many speakers on, two speakers are held out as test

# ---------------------------------------------------------------- the grammar's words
NOUNS = """dog cat bird horse cow goat rabbit duck frog bear lion tiger monkey snake teacher
doctor farmer driver baker sailor singer painter student nurse pilot neighbour king queen
book letter table chair window door garden house car train bicycle boat ship road bridge
river lake hill mountain forest field tree flower apple orange lemon bottle cup key bag coat
hat shoe ball clock lamp picture song question answer idea plan map ticket phone camera radio
computer village market shop kitchen room bed cake bread cheese soup egg coffee jacket
basket blanket candle pencil guitar piano violin umbrella island castle tower garage""".split()
IRREGULAR_PLURALS = dict(sheep="sheep", fish="fish", mouse="mice", child="children", man="men",
                         woman="women", wolf="wolves", knife="knives", leaf="leaves",
                         fox="foxes", bus="buses", box="boxes", glass="glasses",
                         story="stories", city="cities", baby="babies", party="parties",
                         dish="dishes", watch="watches", sandwich="sandwiches")
NOUNS += list(IRREGULAR_PLURALS)

# transitive verbs: base, third person, past
VERBS_T = [v.split() for v in """see sees saw|find finds found|take takes took|bring brings
brought|buy buys bought|sell sells sold|carry carries carried|paint paints painted|wash washes
washed|open opens opened|close closes closed|build builds built|break breaks broke|fix fixes
fixed|move moves moved|want wants wanted|like likes liked|need needs needed|watch watches
watched|visit visits visited|clean cleans cleaned|cook cooks cooked|read reads read|draw
draws drew|catch catches caught|hold holds held|keep keeps kept|leave leaves left|lose loses
lost|push pushes pushed|pull pulls pulled|throw throws threw|follow follows followed|help helps
helped|call calls called|meet meets met|love loves loved|hide hides hid|drop drops dropped|
borrow borrows borrowed|forget forgets forgot|order orders ordered|share shares shared|check
checks checked|count counts counted|feed feeds fed|steal steals stole|touch touches
touched""".split("|")]
# intransitive verbs: base, third person, past
VERBS_I = [v.split() for v in """sleep sleeps slept|laugh laughs laughed|smile smiles smiled|
run runs ran|walk walks walked|sing sings sang|dance dances danced|wait waits waited|swim
swims swam|jump jumps jumped|cry cries cried|talk talks talked|work works worked|rest rests
rested|fall falls fell|listen listens listened|arrive arrives arrived|shout shouts shouted|
whistle whistles whistled|climb climbs climbed|cough coughs coughed|sneeze sneezes sneezed|
travel travels travelled|return returns returned|disappear disappears disappeared""".split("|")]
ADJECTIVES = """big small old young new red blue green yellow black white brown happy sad
tired quiet loud warm cold hot wet dry clean dirty heavy light long short tall little bright
dark soft hard fast slow strange famous lucky busy empty full sweet bitter friendly lazy brave
clever gentle angry hungry sleepy pretty cheap rich poor round square wooden golden broken
well-known old-fashioned brand-new grey purple silver noisy careful polite""".split()
ADVERBS = """quickly slowly quietly loudly carefully happily sadly early late today yesterday
again gently suddenly together outside tonight badly well easily once twice inside""".split()
FREQUENCY = "often always never sometimes rarely usually".split()
DEGREE = "very quite rather too so really".split()
TIMES = ["today", "tonight", "this morning", "this evening", "last week", "every day",
         "on monday", "on friday", "in the summer", "in the winter", "at night", "next year"]
NAMES = """anna ben carla david emma frank grace henry isabel jack kate leo maria nina oscar
paul rosa sam tom victor wendy zoe alice bob clara daniel eric fiona george helen ivan julia
kevin laura mike olivia peter rachel simon tina""".split()
PLACES = """london paris berlin rome madrid tokyo kyoto osaka boston chicago dallas denver
cairo lima oslo vienna prague dublin glasgow edinburgh york leeds bristol cardiff sydney
toronto seattle geneva milan naples lisbon athens warsaw munich hamburg bangkok nairobi""".split()
PRONOUNS = "i we they he she you".split()
DETERMINERS = "the a this that my your his her our their every".split()
PLURAL_DETERMINERS = "the some many these those our their".split()
UNITS = "one two three four five six seven eight nine".split()
TEENS = """ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen
nineteen""".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()

TEMPLATES = [
    "{np} {vtd} {np}.", "{np} {vtd} {np} {adv}.", "{name} {vtd} {np} in {place}.",
    "{name} {vtd} {nps} {time}.", "did {name} {vt} {np}?", "where is {np}?",
    "where are the {adj} {nouns}?", "how many {nouns} did {name} {vt}?",
    "{name}'s {noun} is {adj}.", "the {noun}'s {noun} is {deg} {adj}.", "it's {adj} in {place}.",
    "it's {deg} {adj} in {place} {time}.", "in {place}, {name} {vtd} {number} {nouns}.",
    "{name} said: {np} is {adj}.", "note: {np} {vid} {adv}.", "{name} doesn't {vt} {nps}.",
    "{pron} didn't {vi} {time}.", "it isn't {adj}.", "{name} {vid}.", "yes, {name}.",
    "no, {name} {vid}.", "{name} {vid}, and {name} {vid} {adv}.", "{np} {vid} {adv}.",
    "why did {np} {vi}?", "is {np} {adj}?", "can {name} {vi} {adv}?", "{name} {freq} {vts} {nps}.",
    "{pron}'ll {vt} {np} {time}.", "i'm {deg} {adj}, {name}.", "{number} {nouns} {vid} in {place}.",
    "we saw {number} {adj} {nouns} near the {noun}.", "who {vtd} {name}'s {noun}?",
    "{name} and {name} {vtd} {nps} in {place} {time}.", "what did {pron} {vt} in {place}?",
    "the {adj} {noun} {vid}, but the {noun} didn't.", "{name} isn't {adj}, {name} is.",
    "there are {number} {nouns} in the {noun}.", "don't {vt} {np}, {name}.",
]


def plural(noun: str) -> str:
    """English plural of a grammar noun."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    return noun + "s"


def number_word(n: int) -> str:
    """1..99 in words, hyphenated compounds: ``42 -> forty-two``."""
    if not 1 <= n <= 99:
        raise ValueError(f"number_word takes 1..99: got {n}")
    if n < 10:
        return UNITS[n - 1]
    if n < 20:
        return TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return TENS[tens - 2] + (f"-{UNITS[unit - 1]}" if unit else "")


def _noun_phrase(rng: random.Random) -> str:
    adj = f"{rng.choice(ADJECTIVES)} " if rng.random() < 0.5 else ""
    return f"{rng.choice(DETERMINERS)} {adj}{rng.choice(NOUNS)}"


def _plural_phrase(rng: random.Random) -> str:
    det = number_word(rng.randint(2, 99)) if rng.random() < 0.3 else rng.choice(PLURAL_DETERMINERS)
    adj = f"{rng.choice(ADJECTIVES)} " if rng.random() < 0.4 else ""
    return f"{det} {adj}{plural(rng.choice(NOUNS))}"


SLOTS = {
    "np": _noun_phrase, "nps": _plural_phrase,
    "noun": lambda r: r.choice(NOUNS), "nouns": lambda r: plural(r.choice(NOUNS)),
    "adj": lambda r: r.choice(ADJECTIVES), "adv": lambda r: r.choice(ADVERBS),
    "freq": lambda r: r.choice(FREQUENCY), "deg": lambda r: r.choice(DEGREE),
    "time": lambda r: r.choice(TIMES), "name": lambda r: r.choice(NAMES),
    "place": lambda r: r.choice(PLACES), "pron": lambda r: r.choice(PRONOUNS),
    "number": lambda r: number_word(r.randint(2, 99)),
    "vt": lambda r: r.choice(VERBS_T)[0], "vts": lambda r: r.choice(VERBS_T)[1],
    "vtd": lambda r: r.choice(VERBS_T)[2], "vi": lambda r: r.choice(VERBS_I)[0],
    "vid": lambda r: r.choice(VERBS_I)[2],
}
_SLOT = re.compile(r"\{(\w+)\}")


def _fix_articles(sentence: str) -> str:
    """``a`` before a vowel becomes ``an`` (the grammar has no word where that is wrong)."""
    return re.sub(r"\ba (?=[aeiou])", "an ", sentence)


def sample_sentence(rng: random.Random) -> str:
    """One sentence: a random template with its slots filled."""
    template = rng.choice(TEMPLATES)
    return _fix_articles(_SLOT.sub(lambda m: SLOTS[m.group(1)](rng), template))


def generate_sentences(num: int, seed: int = 0, min_words: int = 2, max_words: int = 12) -> list[str]:
    """``num`` distinct sentences of ``min_words``..``max_words`` words, the same for a seed."""
    rng, seen, out = random.Random(seed), set(), []
    for _ in range(50 * num + 1000):
        if len(out) == num:
            return out
        sentence = sample_sentence(rng)
        if sentence not in seen and min_words <= len(sentence.split()) <= max_words:
            seen.add(sentence)
            out.append(sentence)
    raise ValueError(f"the grammar gave only {len(out)} distinct sentences of {min_words}-"
                     f"{max_words} words, {num} were asked for: ask for fewer")


# ---------------------------------------------------------------- speakers
class Speaker(NamedTuple):
    voice: str  # espeak-ng voice, e.g. en-gb+m3
    pitch: int  # espeak-ng pitch, 50 = the voice's own


def speaker_voices(num: int) -> list[Speaker]:
    """The first ``num`` speakers of a fixed order that alternates accents and m/f variants.

    Speaker k (from 0) has accent ``k % 3`` and variant ``(k + k // 12) % 12``, so the 36
    pairs come up once each; a variant comes back every 12 speakers with another accent,
    and then also with another pitch (50, 35, 65 for speakers 1-12, 13-24, 25-36).
    """
    if not 1 <= num <= MAX_SPEAKERS:
        raise ValueError(f"--speakers must be within 1..{MAX_SPEAKERS}: got {num}")
    return [Speaker(f"{ACCENTS[k % 3]}+{VARIANT_ORDER[(k + k // 12) % 12]}", BLOCK_PITCH[k // 12])
            for k in range(num)]


# ---------------------------------------------------------------- data dirs
def split_sets(data: DataDir, speakers: list[str], seed: int, paired: float = 0.30,
               speech_only: float = 0.35, dev: float = 0.05, test: float = 0.05) -> dict[str, DataDir]:
    """train_* / dev / test of docs/data.md, by :func:`chain.data.split.split_corpus`.

    With >= 10 speakers the last two are held out: all their utterances are ``test`` and
    ``dev`` is a ``dev`` share of the others'; with fewer, dev and test are shares of all.
    """
    held_out = None
    if len(speakers) >= HELD_OUT_MIN_SPEAKERS:
        held = set(speakers[-2:])
        held_out = data.subset([u for u, spk in data.utt2spk.items() if spk in held])
    try:
        return split_corpus(data, dev=dev, test=test, paired=paired, speech_only=speech_only,
                            seed=seed, test_set=held_out)
    except ValueError as err:
        raise ValueError(f"{err}: raise --num-utts") from None


def split_voice_groups(data: DataDir, speakers: list[str], seed: int, *, paired_speakers: int,
                       unseen_speakers: int = 2, paired: float = 0.30, speech_only: float = 0.35,
                       dev: float = 0.05, test: float = 0.05) -> dict[str, DataDir]:
    """The multi-speaker setting, as WSJ's SI84 (paired) and SI200 (unpaired, other speakers).

    The first ``paired_speakers`` voices speak the paired data, the last ``unseen_speakers``
    only ``test_unseen`` (all their utterances), the voices between them the speech-only
    data. ``dev`` (a ``dev`` share of the training voices' utterances) comes from all
    training voices, ``test_seen`` (a ``test`` share of them) from the paired voices. Of the
    rest, a share 1 - ``paired`` - ``speech_only`` of each group is text-only, the remainder
    of the paired voices ``train_paired`` and of the others ``train_speech_only``: the sizes
    follow the voice counts. ``train_full`` is all of the rest, paired (the upper bound).
    """
    text_only = 1.0 - paired - speech_only
    if not 0 <= text_only < 1 or not (0 <= dev < 1 and 0 <= test < 1):
        raise ValueError(f"fractions out of range: paired {paired}, speech-only {speech_only}, dev {dev}, "
                         f"test {test}")
    if paired_speakers < 1 or unseen_speakers < 1 or paired_speakers + unseen_speakers >= len(speakers):
        raise ValueError(f"--paired-speakers {paired_speakers} and --unseen-speakers {unseen_speakers} must be "
                         f">= 1 and leave speech-only voices among --speakers {len(speakers)}")
    groups = {"paired": speakers[:paired_speakers], "speech": speakers[paired_speakers:-unseen_speakers],
              "unseen": speakers[-unseen_speakers:]}
    utts = {name: sorted((u for u, s in data.utt2spk.items() if s in set(spks)), key=str.encode)
            for name, spks in groups.items()}
    seen = len(utts["paired"]) + len(utts["speech"])
    n_dev, n_test = max(1, round(dev * seen)), max(1, round(test * seen))
    if n_test >= len(utts["paired"]) or n_dev + n_test >= seen:
        raise ValueError(f"{seen} utterances of the training voices are too few for --dev {dev} --test {test}")
    test_seen, paired_rest = shuffle_split(utts["paired"], (n_test / len(utts["paired"]),
                                                            1 - n_test / len(utts["paired"])), seed)
    pool = paired_rest + utts["speech"]
    dev_utts, _ = shuffle_split(pool, (n_dev / len(pool), 1 - n_dev / len(pool)), seed)
    held = set(dev_utts)
    parts = {}
    for name, group in (("paired", paired_rest), ("speech", utts["speech"])):
        rest = [u for u in group if u not in held]
        parts[name] = shuffle_split(rest, (1 - text_only, text_only), seed)
    full = parts["paired"][0] + parts["paired"][1] + parts["speech"][0] + parts["speech"][1]
    sets = {"train_full": data.subset(full),
            "train_paired": data.subset(parts["paired"][0]),
            "train_speech_only": data.subset(parts["speech"][0], keep_text=False),
            "train_text_only": data.subset(parts["paired"][1] + parts["speech"][1], keep_wav=False),
            "dev": data.subset(dev_utts), "test_seen": data.subset(test_seen),
            "test_unseen": data.subset(utts["unseen"])}
    empty = [name for name, d in sets.items() if not d.utts]
    if empty:
        raise ValueError(f"{', '.join(empty)} would be empty: raise --num-utts")
    return sets


def make_corpus(out_dir: str | os.PathLike, wav_dir: str | os.PathLike, num_utts: int = 3000,
                speakers: int = 1, seed: int = 0, nj: int = 2, rate_wpm: int = 175,
                paired: float = 0.30, speech_only: float = 0.35, dev: float = 0.05,
                test: float = 0.05, paired_speakers: int = 0, unseen_speakers: int = 2) -> dict[str, DataDir]:
    """Generate, synthesise and write the whole corpus; return the data dirs written.

    Utterance ``i`` (1-based) goes to speaker ``(i - 1) % speakers``; ids look like
    ``spk01-00042``. Wavs (16 kHz, 16 bit) go to ``wav_dir/<spk>/<utt>.wav``, spoken by
    ``nj`` processes; a re-run reuses what an earlier run finished (see
    :mod:`chain.corpora.espeak_batch`), and the same arguments give the same bits.
    ``paired_speakers`` > 0: the multi-speaker setting (:func:`split_voice_groups`).
    """
    if num_utts < 1 or nj < 1:
        raise ValueError(f"--num-utts and --nj must be >= 1: got {num_utts} and {nj}")
    if not 80 <= rate_wpm <= 450:
        raise ValueError(f"--rate-wpm must be within 80..450 words per minute: got {rate_wpm}")
    wav_dir = Path(wav_dir).resolve()
    if any(c.isspace() for c in str(wav_dir)):
        raise ValueError(f"--wav-dir must have no whitespace in its absolute path "
                         f"(wav.scp could not hold it): got '{wav_dir}'")
    voices = speaker_voices(speakers)
    spk_ids = [f"spk{k + 1:02d}" for k in range(speakers)]
    sentences = generate_sentences(num_utts, seed)
    width = max(5, len(str(num_utts)))
    jobs = []
    for i, text in enumerate(sentences, 1):
        spk = spk_ids[(i - 1) % speakers]
        utt = f"{spk}-{i:0{width}d}"
        voice, pitch = voices[(i - 1) % speakers]
        jobs.append(Job(utt, voice, text, str(wav_dir / spk / f"{utt}.wav"), pitch))
    data = DataDir(utt2spk={j.utt: j.utt.split("-")[0] for j in jobs},
                   wav_scp={j.utt: j.wav for j in jobs}, text={j.utt: j.text for j in jobs})
    def split() -> dict[str, DataDir]:
        if paired_speakers:
            return split_voice_groups(data, spk_ids, seed, paired_speakers=paired_speakers,
                                      unseen_speakers=unseen_speakers, paired=paired,
                                      speech_only=speech_only, dev=dev, test=test)
        return split_sets(data, spk_ids, seed, paired, speech_only, dev, test)

    split()  # fail before the long part

    done = synthesise(jobs, nj, rate_wpm)
    data.extra = {"utt2dur": {j.utt: f"{done[j.utt][0] / SAMPLE_RATE:.4f}" for j in jobs},
                  "utt2gender": {j.utt: j.voice.partition("+")[2][0] for j in jobs}}
    sets = split()
    write_sets(sets, out_dir)
    local = Path(out_dir) / "local"
    with atomic_write(local / "phones.ctm") as f:
        for job in sorted(jobs, key=lambda j: j.utt.encode()):
            f.writelines(done[job.utt][1])
    with atomic_write(local / "corpus.txt") as f:
        f.writelines(f"{j.text}\n" for j in jobs)
    write_kv(local / "spk2voice",
             {spk: f"{s.voice} pitch={s.pitch}" for spk, s in zip(spk_ids, voices)})
    return sets
