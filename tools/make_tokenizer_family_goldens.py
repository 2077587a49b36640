#!/usr/bin/env python3
"""Golden data for tests/test_tokenizer_families.cpp: small tokenizers of other families.

Trains, with HF `tokenizers`, a small BPE for each family on a deterministic training text (the
corpus generator of make_tokenizer_goldens.py with another seed), then sets the pipeline of the
family's real tokenizer.json and writes, under tests/data/tokenizers/<kind>/:

- tokenizer.json (tokenizer.gguf for spm_gguf)
- golden.jsonl: one line per line of tests/data/tokenizer_corpus.txt (or every `step`-th line,
  to keep the data small): {"line": n, "text": ..., "ids": [...], "decoded": ...} where ids =
  encode(text, add_special_tokens=False) and decoded = decode(ids) (skip_special_tokens=False),
  left out where it equals text;
  "ids_plain" (special tokens left as text, HF's encode_special_tokens=True) and
  "decoded_skip" (skip_special_tokens=True) only where they differ from ids / decoded.

Kinds:
- qwen2:  Sequence[Split(Qwen2 regex, Isolated), ByteLevel(use_regex=False)], ByteLevel decoder
          (real Qwen2 files also have an NFC normalizer; ours has none).
- llama3: Sequence[Split(Llama 3 regex, Isolated), ByteLevel(use_regex=False)], ignore_merges,
          ByteLevel decoder, post_processor Sequence[ByteLevel, TemplateProcessing].
- spm:    SentencePiece-style BPE as transformers' LlamaConverter writes it (legacy):
          normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], no pre-tokenizer, BPE with
          byte_fallback, unk <unk>, fuse_unk; decoder Sequence[Replace("▁", " "), ByteFallback,
          Fuse, Strip(" ", 1, 0)]. The alphabet is cut so that many characters fall back to
          <0xNN> byte tokens.
  Re-running can give another (equally valid) vocab here: with limit_alphabet the trainer breaks
  ties between equally frequent characters in hash order. Tokenizer and golden are always
  written together, so they stay consistent.
- spm_gguf: tokenizer.gguf (tokenizer.ggml.model "llama", tokens + scores, no merges) from the
          same vocab; the reference is transformers' GGUF loader.
- spm_metaspace: the same vocab with the non-legacy pipeline: no normalizer, pre_tokenizer
          Metaspace(replacement "▁", prepend_scheme "first", split false).

Usage: /root/refenv/bin/python tools/make_tokenizer_family_goldens.py
"""
import json
import os
import random
import sys
import unicodedata

import tokenizers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'tests', 'data')
OUT = os.path.join(DATA, 'tokenizers')
sys.path.insert(0, os.path.join(ROOT, 'tools'))
from make_tokenizer_goldens import make_corpus  # noqa: E402

QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
VOCAB_SIZE = 3000


def training_text():
    lines = make_corpus(random.Random(424242), 3000)
    rng = random.Random(5)
    words = ['the', 'tokenizer', 'model', 'weights', 'training', 'value', 'number', 'function',
             'return', 'while', 'Hello', 'World', 'THE', 'And', 'data', 'layer']
    for _ in range(2000):
        lines.append(' '.join(rng.choice(words) + rng.choice(['', '', "'s", "'t", "'re", "'LL",
                                                              ',', '.', '!', '\n']) for _ in
                              range(rng.randint(3, 15))))
    return lines


def byte_level_kind(regex, specials, ignore_merges, post_processor):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(tokenizers.Regex(regex), behavior='isolated', invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(training_text(), trainer)
    j = json.loads(tok.to_str())
    j['normalizer'] = None
    j['model']['ignore_merges'] = ignore_merges
    j['pre_tokenizer']['pretokenizers'][1]['trim_offsets'] = False
    j['post_processor'] = post_processor
    return j


def spm_kind():
    # Train on Metaspace-split words (as SentencePiece does: pieces never span a '▁' inside),
    # then write the pipeline of a Llama 2 tokenizer.json.
    specials = ['<unk>', '<s>', '</s>'] + ['<0x%02X>' % b for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token='<unk>', fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend('▁'), normalizers.Replace(' ', '▁')])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement='▁', prepend_scheme='never', split=True)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=specials,
                                  limit_alphabet=400, show_progress=False)
    tok.train_from_iterator(training_text(), trainer)
    j = json.loads(tok.to_str())
    # Byte tokens are ordinary vocab entries in Llama's file, not added tokens.
    j['added_tokens'] = [t for t in j['added_tokens'] if not t['content'].startswith('<0x')]
    j['pre_tokenizer'] = None
    j['decoder'] = json.loads(decoders.Sequence([
        decoders.Replace('▁', ' '), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(content=' ', left=1, right=0)]).__getstate__())
    j['model'].update({'unk_token': '<unk>', 'fuse_unk': True, 'byte_fallback': True})
    j['post_processor'] = None
    return j


def spm_metaspace_kind(spm):
    j = json.loads(json.dumps(spm))
    j['normalizer'] = None
    j['pre_tokenizer'] = json.loads(pre_tokenizers.Metaspace(
        replacement='▁', prepend_scheme='first', split=False).__getstate__())
    return j


def special_lines(specials):
    # The corpus embeds SmolLM2's special tokens; these lines use each kind's own.
    a, b = specials[0], specials[1]
    return [a, a + a, f'x{a}y', f' {a} ', f'Hi {a} there{b}\n  {a}', f'{a}  two', f'one {b}',
            f'{b}\n\n{a}user', f'{a[:-1]} {a[1:]}', f'<{a}>']


def write_spm_gguf(spm, lines, step, extra):
    """A GGUF with tokenizer.ggml.model "llama" from the spm vocab: scores -id (so merges come
    from the scores), byte tokens type 6, <s> </s> control; the reference is what transformers'
    own GGUF loader builds from it (LlamaTokenizer: Metaspace first, no unk in BPE)."""
    import gguf
    from transformers import AutoTokenizer
    d = os.path.join(OUT, 'spm_gguf')
    os.makedirs(d, exist_ok=True)
    tokens = [t for t, _ in sorted(spm['model']['vocab'].items(), key=lambda kv: kv[1])]
    types, scores = [], []
    for i, t in enumerate(tokens):
        if t in ('<s>', '</s>'):
            types.append(3); scores.append(0.0)
        elif t == '<unk>':
            types.append(2); scores.append(0.0)
        elif t.startswith('<0x') and len(t) == 6:
            types.append(6); scores.append(0.0)
        else:
            types.append(1); scores.append(float(-i))
    path = os.path.join(d, 'tokenizer.gguf')
    w = gguf.GGUFWriter(path, 'llama')
    w.add_tokenizer_model('llama')
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tok = AutoTokenizer.from_pretrained(d, gguf_file='tokenizer.gguf').backend_tokenizer
    write_golden('spm_gguf', tok, lines, step, extra)


def write_kind(kind, j, lines, step, extra):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    text = json.dumps(j, ensure_ascii=False, indent=None, separators=(',', ':'))
    with open(os.path.join(d, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        f.write(text)
    write_golden(kind, Tokenizer.from_str(text), lines, step, extra)


def write_golden(kind, tok, lines, step, extra):
    d = os.path.join(OUT, kind)
    plain = Tokenizer.from_str(tok.to_str())
    plain.encode_special_tokens = True
    n_ids = 0
    with open(os.path.join(d, 'golden.jsonl'), 'w', encoding='utf-8') as f:
        todo = [(i, lines[i]) for i in range(0, len(lines), step)] + [(-1, t) for t in extra]
        for i, t in todo:
            ids = tok.encode(t, add_special_tokens=False).ids
            rec = {'line': i, 'text': t, 'ids': ids}
            decoded = tok.decode(ids, skip_special_tokens=False)
            if decoded != t:
                rec['decoded'] = decoded
            ids_plain = plain.encode(t, add_special_tokens=False).ids
            if ids_plain != ids:
                rec['ids_plain'] = ids_plain
            skip = tok.decode(ids, skip_special_tokens=True)
            if skip != decoded:
                rec['decoded_skip'] = skip
            n_ids += len(ids)
            f.write(json.dumps(rec, ensure_ascii=False, separators=(',', ':')) + '\n')
    print(f'{kind}: vocab {tok.get_vocab_size()}, {len(todo)} lines, '
          f'{n_ids} ids', file=sys.stderr)


def write_nfc_tables(path):
    """src/tokenizer/nfc_tables.inc from Python 3.11's unicodedata (Unicode 14.0): HF's NFC (the
    unicode-normalization-alignments crate) agrees with it on the NFD of every code point but
    one, U+11938 (Dives Akuru, Unicode 13), which HF neither decomposes nor composes, so it is
    left out. Unicode 16.0 data would differ on 21 (compositions added in 15/16 that HF lacks)."""
    import unicodedata as ud
    hf_lacks = {0x11938}
    ccc, decomp, comp = [], [], []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        if c in hf_lacks:
            continue
        if ud.combining(ch):
            ccc.append((c, ud.combining(ch)))
        if 0xAC00 <= c <= 0xD7A3:
            continue  # Hangul syllables are algorithmic
        d = ud.normalize('NFD', ch)
        if d != ch:
            decomp.append((c, [ord(x) for x in d]))
        raw = ud.decomposition(ch)
        if raw and not raw.startswith('<'):
            parts = [int(x, 16) for x in raw.split()]
            if len(parts) == 2 and ud.normalize('NFC', chr(parts[0]) + chr(parts[1])) == ch:
                comp.append((parts[0], parts[1], c))
    comp.sort()
    flat = []
    with open(path, 'w') as f:
        f.write('// Generated by tools/make_tokenizer_family_goldens.py --nfc-tables from Python '
                'unicodedata (Unicode %s).\n// Do not edit.\n' % ud.unidata_version)
        f.write('static constexpr CccEntry kCcc[] = {\n')
        f.write(',\n'.join('{0x%X,%d}' % e for e in ccc) + '};\n')
        f.write('static constexpr DecompEntry kDecomp[] = {\n')
        rows = []
        for c, d in decomp:
            rows.append('{0x%X,%d,%d}' % (c, len(flat), len(d)))
            flat += d
        f.write(',\n'.join(rows) + '};\n')
        f.write('static constexpr uint32_t kDecompChars[] = {\n')
        f.write(',\n'.join('0x%X' % x for x in flat) + '};\n')
        f.write('static constexpr CompEntry kComp[] = {\n')
        f.write(',\n'.join('{0x%X,0x%X,0x%X}' % e for e in comp) + '};\n')
    print(f'{path}: {len(ccc)} ccc, {len(decomp)} decompositions, {len(comp)} compositions',
          file=sys.stderr)


def main():
    if '--nfc-tables' in sys.argv:
        write_nfc_tables(os.path.join(ROOT, 'src', 'tokenizer', 'nfc_tables.inc'))
        return
    with open(os.path.join(DATA, 'tokenizer_corpus.txt'), encoding='utf-8') as f:
        lines = [json.loads(l) for l in f]
    print(f'tokenizers {tokenizers.__version__}', file=sys.stderr)
    qwen_specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
    qwen2 = byte_level_kind(QWEN2_REGEX, qwen_specials, False, None)
    write_kind('qwen2', qwen2, lines, 2, special_lines(qwen_specials))
    # Real Qwen2 files normalize with NFC: the same vocab with it, on corpus lines and on their
    # NFD forms (decomposed accents, Hangul jamo, reordered marks).
    qwen2_nfc = dict(qwen2, normalizer={'type': 'NFC'})
    nfc_lines = [unicodedata.normalize('NFD', l) for l in lines[1::4]] + [
        'e\u0301', 'e\u0327\u0301', 'e\u0301\u0327', 'a\u0323\u0302', '\u1100\u1161\u11a8',
        '\u1100\u1161', '\uac00\u11a8', 'A\u030a\u0301', '\u212b', '\u0958', '\u2126 ohm',
        'q\u0307\u0323', '\u0301start', 'x<|im_start|>\u0301', 'caf\u00e9 vs cafe\u0301']
    write_kind('qwen2_nfc', qwen2_nfc, lines[::4], 1, nfc_lines + special_lines(qwen_specials))
    llama3_specials = ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>',
                       '<|end_header_id|>', '<|eot_id|>', '<|im_start|>', '<|im_end|>']
    post = {'type': 'Sequence', 'processors': [
        {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        {'type': 'TemplateProcessing',
         'single': [{'SpecialToken': {'id': '<|begin_of_text|>', 'type_id': 0}},
                    {'Sequence': {'id': 'A', 'type_id': 0}}],
         'pair': [{'SpecialToken': {'id': '<|begin_of_text|>', 'type_id': 0}},
                  {'Sequence': {'id': 'A', 'type_id': 0}},
                  {'SpecialToken': {'id': '<|begin_of_text|>', 'type_id': 1}},
                  {'Sequence': {'id': 'B', 'type_id': 1}}],
         'special_tokens': {'<|begin_of_text|>': {'id': '<|begin_of_text|>', 'ids': [0],
                                                  'tokens': ['<|begin_of_text|>']}}}]}
    write_kind('llama3', byte_level_kind(LLAMA3_REGEX, llama3_specials, True, post), lines, 2,
               special_lines(llama3_specials))
    spm = spm_kind()
    spm_lines = special_lines(['<s>', '</s>', '<unk>']) + ['<0x41>', '▁', '▁▁a', 'a▁ b', '\u2581x']
    write_kind('spm', spm, lines, 2, spm_lines)
    write_kind('spm_metaspace', spm_metaspace_kind(spm), lines, 3, spm_lines)
    write_spm_gguf(spm, lines, 3, spm_lines)


if __name__ == '__main__':
    main()
