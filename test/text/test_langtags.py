"""Language tags in transcripts (chain.text.langtags) and the tagged character inventory."""
import pytest
import torch

from chain.asr.seq2seq import Seq2SeqASR
from chain.corpora.codeswitch_grammar import charset
from chain.text import langtags
from chain.text.char_tokenizer import CharTokenizer, char_units
from chain.text.langtags import Segment


def cs_tokenizer():
    return CharTokenizer(char_units(charset(), langtags.TAGS))


def test_join_and_parse_round_trip():
    segments = [Segment("ja", "これは"), Segment("en", "still water"), Segment("ja", "ですか？")]
    text = langtags.join(segments)
    assert text == "<ja>これは<en>still water<ja>ですか？"
    assert langtags.parse(text) == segments
    assert langtags.strip(text) == "これはstill waterですか？"
    assert langtags.lang_sequence(text) == ["ja", "en", "ja"]
    chars, langs = langtags.char_langs(text)
    assert "".join(chars) == "これはstill waterですか？"
    assert langs == ["ja"] * 3 + ["en"] * 11 + ["ja"] * 4


@pytest.mark.parametrize("text, message", [
    ("これは<ja>です", "before the first language tag"),
    ("<fr>bonjour", "expected one of <en> <ja> <zh>"),
    ("<en>stillです", "mixed scripts: 'で' (kana)"),
    ("<ja>これは<en><ja>です", "empty <en> run"),
    ("", "no language tag"),
])
def test_parse_rejects_bad_text(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        langtags.parse(text)


def test_tag_by_script():
    assert langtags.tag_by_script("これは still water ですか？", ["ja", "en"]) == \
        "<ja>これは <en>still water <ja>ですか？"
    assert langtags.tag_by_script("这是red car吗？", ["zh", "en"]) == "<zh>这是<en>red car<zh>吗？"
    assert langtags.tag_by_script("漢字です", ["ja"]) == "<ja>漢字です"
    with pytest.raises(ValueError, match="both of the languages ja/zh"):
        langtags.tag_by_script("漢字", ["ja", "zh"])
    with pytest.raises(ValueError, match="none of the languages en"):
        langtags.tag_by_script("abc です", ["en"])


def test_tokenizer_round_trip_with_tags():
    tok = cs_tokenizer()
    text = "<zh>这是<en>still water<zh>吗？"
    ids = tok.encode(text)
    assert tok.unk_id not in ids
    assert ids[0] == tok.token2id["<zh>"] and ids.count(tok.token2id["<en>"]) == 1  # a tag is one token
    assert len(ids) == len("这是still water吗？") + 3
    assert tok.decode(ids) == text
    assert tok.unknown_chars("<ja>漢です") == ["漢"]  # a character outside the inventory


def test_asr_emits_tags_as_tokens_and_learns_them():
    """ASR+LID by tag tokens: the one softmax covers characters and tags, so every output step
    is a character (of the language of the tag in force) or a language switch."""
    tok = cs_tokenizer()
    texts = ["<ja>これは<en>tea<ja>です。", "<en>a red car.", "<zh>这是<en>cat<zh>吗？"]
    ids = [tok.encode(t) for t in texts]
    lengths = torch.tensor([len(i) for i in ids])
    tokens = torch.zeros(3, int(lengths.max()), dtype=torch.long)
    for b, row in enumerate(ids):
        tokens[b, :len(row)] = torch.tensor(row)
    torch.manual_seed(0)
    model = Seq2SeqASR(vocab_size=len(tok), idim=8, enc_proj=16, enc_hidden=16, enc_layers=1,
                       subsample=[2], dec_embed=16, dec_hidden=32, attn_dim=16, attention="mlp")
    batch = dict(feats=torch.randn(3, 40, 8), feat_lengths=torch.tensor([40, 36, 30]),
                 tokens=tokens, token_lengths=lengths)
    enc, enc_lengths = model.encode(batch["feats"], batch["feat_lengths"])
    prev, target = model.add_sos_eos(tokens, lengths)
    logits, _ = model.decode_teacher_forced(enc, enc_lengths, prev)
    assert logits.shape == (3, int(lengths.max()) + 1, len(tok))  # (B, L + 1, chars + tags + specials)
    tag_ids = [tok.token2id[t] for t in langtags.TAGS]
    assert all(i < len(tok) for i in tag_ids)
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(30):
        loss, _ = model(batch)
        first = first if first is not None else loss.item()
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert loss.item() < 0.5 * first  # tags and characters are learnt by the one cross-entropy
    model.eval()
    with torch.no_grad():
        hyps = model.greedy(batch["feats"], batch["feat_lengths"], max_len_ratio=3.0)
    decoded = [tok.decode(h) for h in hyps]
    assert decoded[0].startswith("<ja>")  # the first step predicts the language
