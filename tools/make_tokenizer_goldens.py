#!/usr/bin/env python3
"""Golden data for the SmolLM2 tokenizer tests (tests/test_tokenizer.cpp).

1. Builds the reference tokenizer with HF `tokenizers` from the GGUF's tokens and merges, with
   the pipeline of SmolLM2's original tokenizer.json: no normalizer, pre-tokenizer
   Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)],
   BPE without unk, ByteLevel decoder, token_type==3 tokens as special added tokens. Saves it as
   tests/data/smollm2/tokenizer.json, plus tokenizer_config.json (bos/eos/pad, chat template).
2. Writes a deterministic corpus of hard lines, tests/data/tokenizer_corpus.txt (JSONL: one
   JSON string per line, so newline runs survive).
3. Writes tests/data/tokenizer_golden.jsonl: {"text": ..., "ids": [...]} per corpus line,
   from encode(text, add_special_tokens=False).
4. Compares with transformers' own GGUF loader and prints a summary (recorded by hand in
   docs/TOKENIZER.md).

Usage: /root/refenv/bin/python tools/make_tokenizer_goldens.py [--gguf PATH]
"""
import argparse
import json
import os
import random
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'tests', 'data')


def read_gguf(path):
    import gguf
    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode('utf-8') for i in f.data]

    def ints(key):
        f = r.fields[key]
        return [int(f.parts[i][0]) for i in f.data]

    def scalar(key, default=None):
        if key not in r.fields:
            return default
        f = r.fields[key]
        v = f.parts[f.data[0]]
        if f.types[0] == gguf.GGUFValueType.STRING:
            return bytes(v).decode('utf-8')
        return v.tolist()[0]

    return {
        'tokens': strings('tokenizer.ggml.tokens'),
        'merges': strings('tokenizer.ggml.merges'),
        'types': ints('tokenizer.ggml.token_type'),
        'pre': scalar('tokenizer.ggml.pre'),
        'bos': scalar('tokenizer.ggml.bos_token_id'),
        'eos': scalar('tokenizer.ggml.eos_token_id'),
        'pad': scalar('tokenizer.ggml.padding_token_id'),
        'add_bos': bool(scalar('tokenizer.ggml.add_bos_token', False)),
        'chat_template': scalar('tokenizer.chat_template', ''),
    }


def build_reference(meta):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    vocab = {t: i for i, t in enumerate(meta['tokens'])}
    merges = [tuple(m.split(' ', 1)) for m in meta['merges']]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, dropout=None, unk_token=None,
                               fuse_unk=False, byte_fallback=False, ignore_merges=False))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = [AddedToken(meta['tokens'][i], special=True, normalized=False, lstrip=False,
                           rstrip=False, single_word=False)
                for i, t in enumerate(meta['types']) if t == 3]
    tok.add_special_tokens(specials)
    return tok


# ----------------------------------------------------------------------------- corpus

SCRIPTS = {
    'cjk': (0x4E00, 0x9FFF), 'hiragana': (0x3041, 0x3096), 'katakana': (0x30A1, 0x30FA),
    'hangul': (0xAC00, 0xD7A3), 'arabic': (0x0621, 0x064A), 'hebrew': (0x05D0, 0x05EA),
    'devanagari': (0x0905, 0x0939), 'thai': (0x0E01, 0x0E30), 'cyrillic': (0x0410, 0x044F),
    'greek': (0x0391, 0x03C9), 'armenian': (0x0531, 0x0556), 'georgian': (0x10D0, 0x10FA),
    'ethiopic': (0x1200, 0x1248), 'tamil': (0x0B85, 0x0B94), 'latin_ext': (0x0100, 0x017F),
    'bengali': (0x0985, 0x098C), 'tibetan': (0x0F40, 0x0F47), 'cherokee': (0x13A0, 0x13F4),
}
SAMPLES = [
    'Hello, world!', "I'm here; you're there. It's fine, isn't it?", 'Привет, как дела?',
    'Γειά σου Κόσμε', '你好，世界！这是一个测试。', 'こんにちは世界、カタカナとひらがな。',
    '안녕하세요 세계', 'مرحبا بالعالم، كيف حالك؟', 'שלום עולם', 'नमस्ते दुनिया, यह परीक्षण है।',
    'สวัสดีชาวโลก', 'Xin chào thế giới', 'Zürich straße façade naïve coöperate',
    'ﬁ ﬂ ﬀ ligatures', 'Ａｌｐｈａ　ｆｕｌｌｗｉｄｔｈ　１２３', 'ǅungla ǈ ǋ titlecase',
    'e\u0301 a\u0300 o\u0308 n\u0303 (combining)', 'Z\u0351\u0358a\u0364l\u0301g\u0350o\u0317',
    '\u0915\u094d\u0937 \u0924\u094d\u0930 ज्ञ', 'ก\u0e34\u0e4a ก\u0e38', '한국어 \u1100\u1161\u11a8 jamo',
    'Ⅻ Ⅷ ⅷ ½ ¾ ² ³ ① ⑳ ٣٤٥ ۶۷ ७८९ ๑๒๓', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝓜𝓪𝓽𝓱 𝟘𝟙𝟚', '𐍈 𐌰𐌱 gothic',
]
EMOJI = ['😀', '👍', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇺🇸', '🇯🇵', '❤️', '🤦🏼‍♂️', '👩🏿‍💻', '🧑‍🚀', '✌🏻',
         '🫠', '🐍', '🔥🔥🔥', '1️⃣', '#️⃣', '©️', '™', '🏴‍☠️', '👁️‍🗨️', '🤌', '🧪', '⭐']
CODE = [
    'def f(x):\n    return x ** 2  # square\n',
    'for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}',
    'fn main() { let v: Vec<u32> = (0..10).collect(); println!("{:?}", v); }',
    'const x = await fetch(`/api/${id}`).then(r => r.json());',
    'SELECT id, name FROM users WHERE age >= 21 AND name LIKE \'%son\';',
    '#include <vector>\ntemplate <typename T> struct S { T* p = nullptr; };',
    '<div class="a b" data-x=\'1\'>&amp;&lt;&gt;</div>',
    '{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}',
    'x=[1,2,3];y={k:v for k,v in d.items() if v!=None}',
    'if err != nil {\n\t\treturn fmt.Errorf("wrap: %w", err)\n\t}',
    '#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo "$f"; done',
    'public static void main(String[] args) throws IOException {}',
    '    \t  mixed   indentation\n\n\n\t\tend',
    'λx. x + 1  ∀x∈ℝ: x² ≥ 0  ∑_{i=1}^{n} i = n(n+1)/2',
    'matrix[i][j] -= lr * grad[i][j]; // SGD step',
    '<tool_call>\n{"name": "search", "arguments": {"q": "x"}}\n</tool_call>',
]
SPECIALS = ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<repo_name>', '<file_sep>',
            '<filename>', '<gh_stars>', '<issue_start>', '<jupyter_code>', '<empty_output>']
WORDS = ['the', 'The', 'THE', 'a', 'tool', 'call', 'function', 'weather', 'Paris', 'token',
         'naïve', 'café', 'über', 'don', 'won', 'can', 'it', 'I', 'we', 'they', 'SmolLM',
         'hello', 'HTTP', 'JSON', 'x', 'ABC', 'camelCase', 'snake_case', 'kebab-case']
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE",
                "'VE", "'M", "'LL", "'Ll", "'D", "'x", "''", "'", "’s", "’t", "'s'", "''s"]
SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\u00a0', '\u3000', '\u2003', '\u2009',
          '\u202f', '\u205f', '\u1680', '\u2028', '\u2029', '\u0085', '\u000b', '\u000c',
          ' \n', '\n ', ' \t ', '\t\t', '\n\n\n', '    ', '\u200b', '\ufeff', '\u180e']


def rand_script_text(rng, name, n):
    lo, hi = SCRIPTS[name]
    return ''.join(chr(rng.randint(lo, hi)) for _ in range(n))


def number(rng):
    k = rng.randrange(14)
    if k == 0: return str(rng.randint(0, 10 ** rng.randint(1, 20)))
    if k == 1: return f'{rng.uniform(-1e6, 1e6):.{rng.randint(0, 8)}f}'
    if k == 2: return f'{rng.uniform(0, 1):e}'
    if k == 3: return hex(rng.getrandbits(rng.randint(4, 64)))
    if k == 4: return f'{rng.randint(1, 9)},{rng.randint(100, 999)},{rng.randint(100, 999)}'
    if k == 5: return f'{rng.randint(1, 31):02d}/{rng.randint(1, 12):02d}/{rng.randint(1900, 2100)}'
    if k == 6: return f'+1 ({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}'
    if k == 7: return f'v{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}-rc{rng.randint(1, 5)}'
    if k == 8: return f'{rng.randint(0, 100)}%'
    if k == 9: return f'${rng.randint(0, 99999)}.{rng.randint(0, 99):02d}'
    if k == 10: return ''.join(rng.choice('٠١٢٣٤٥٦٧٨٩') for _ in range(rng.randint(1, 6)))
    if k == 11: return ''.join(rng.choice('०१२३४५६७८९') for _ in range(rng.randint(1, 6)))
    if k == 12: return ''.join(rng.choice('⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂½⅓¼ⅠⅡⅢⅣ①②③') for _ in range(rng.randint(1, 5)))
    return str(rng.randint(0, 9)) * rng.randint(1, 30)


def junk(rng, n):
    """Random valid UTF-8: code points from all planes, minus surrogates and unassigned ones."""
    out = []
    while len(out) < n:
        band = rng.randrange(5)
        if band == 0: cp = rng.randint(0x20, 0x7E)
        elif band == 1: cp = rng.randint(0x80, 0x7FF)
        elif band == 2: cp = rng.randint(0x800, 0xFFFF)
        elif band == 3: cp = rng.randint(0x10000, 0x1FFFF)
        else: cp = rng.randint(0, 0x1F)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) == 'Cn':  # unassigned: Unicode versions may differ
            continue
        out.append(chr(cp))
    return ''.join(out)


def make_corpus(rng, n_lines):
    lines = []
    lines += SAMPLES + EMOJI + CODE + SPECIALS + CONTRACTIONS + SPACES
    lines += ['', ' ', '\n', 'a', '1', "'", ' 1', '  1', '1 ', 'a  1', 'a 1 b', '12345678901234567890',
              '\t1', "it's", "IT'S", "it''s", "it 's", "'s'", "x' s", '\u00a0\u00a0word', 'word\u00a0',
              '<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
              '<|im_start|><|im_end|><|im_start|>', '<|im_start', 'im_start|>', '<<|im_start|>>',
              ' <|im_start|> ', '  <|im_end|>  ', 'x<|endoftext|>y', '<|endoftext|>' * 3,
              'a' * 300, ' ' * 100, '\n' * 50, '!' * 200, '🔥' * 40, '9' * 120, 'ab' * 150]
    makers = []

    def m_script():
        name = rng.choice(list(SCRIPTS))
        parts = [rand_script_text(rng, name, rng.randint(1, 12)) for _ in range(rng.randint(1, 6))]
        return rng.choice([' ', '', '  ', '\u3000', ', ']).join(parts)

    def m_words():
        toks = []
        for _ in range(rng.randint(1, 16)):
            r = rng.random()
            if r < 0.5: toks.append(rng.choice(WORDS) + (rng.choice(CONTRACTIONS) if rng.random() < 0.3 else ''))
            elif r < 0.65: toks.append(number(rng))
            elif r < 0.75: toks.append(rng.choice(EMOJI))
            elif r < 0.85: toks.append(rng.choice(',.;:!?()[]{}"\'-_/\\@#$%^&*+=<>|~`'))
            else: toks.append(rng.choice(SAMPLES))
        return ''.join(t + rng.choice(SPACES if rng.random() < 0.3 else [' ']) for t in toks).rstrip(' ') \
            if rng.random() < 0.7 else ''.join(t + rng.choice(SPACES) for t in toks)

    def m_mixed_scripts():
        return ''.join(rng.choice([rand_script_text(rng, rng.choice(list(SCRIPTS)), rng.randint(1, 5)),
                                   rng.choice(EMOJI), number(rng), rng.choice(SPACES), rng.choice(WORDS)])
                       for _ in range(rng.randint(2, 10)))

    def m_code():
        c = rng.choice(CODE)
        if rng.random() < 0.5:
            c = c.replace('    ', rng.choice(['\t', '  ', '        ', '\u00a0\u00a0']))
        return c + rng.choice(['', '\n', ' ', '  \n\t'])

    def m_specials():
        parts = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.4: parts.append(rng.choice(SPECIALS))
            elif r < 0.6: parts.append(rng.choice(SPACES))
            elif r < 0.8: parts.append(rng.choice(WORDS))
            else: parts.append(rng.choice(SPECIALS)[:rng.randint(1, 8)])  # truncated: plain text
        return ''.join(parts)

    def m_chat():
        role = rng.choice(['system', 'user', 'assistant', 'tool'])
        body = m_words()
        return f'<|im_start|>{role}\n{body}<|im_end|>' + rng.choice(['\n', '', '\n\n'])

    def m_whitespace():
        return ''.join(rng.choice(SPACES + ['x', 'y', '1', '.', "'s", 'é', '中']) for _ in range(rng.randint(1, 20)))

    def m_junk():
        return junk(rng, rng.randint(1, 40))

    def m_combining():
        base = ''.join(rng.choice('aeiouxyzAEIOU中ب') for _ in range(rng.randint(1, 6)))
        out = ''
        for ch in base:
            out += ch + ''.join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(0, 4)))
            if rng.random() < 0.3: out += ' '
        return out

    def m_numbers():
        return rng.choice([' ', '', ', ', '\n', 'x', ' and ']).join(number(rng) for _ in range(rng.randint(1, 6)))

    makers = [m_script, m_words, m_mixed_scripts, m_code, m_specials, m_chat, m_whitespace,
              m_junk, m_combining, m_numbers]
    while len(lines) < n_lines:
        lines.append(rng.choice(makers)())
    return lines


# ----------------------------------------------------------------------------- small tokenizer

def make_small(meta, rng, corpus):
    """A 3k-merge byte-level BPE cut from SmolLM2's merges, with the plain GPT-2 pre-tokenizer,
    legacy "a b" merges, and added tokens using every flag (lstrip, rstrip, single_word,
    normalized, non-ASCII content) so that the added-token rules are checked against HF too."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    tokens = meta['tokens']
    alphabet = [t for t in tokens[17:] if len(t) == 1][:256]
    vocab = {t: i for i, t in enumerate(alphabet)}
    merges = []
    for m in meta['merges']:
        a, b = m.split(' ', 1)
        if a in vocab and b in vocab and a + b not in vocab:
            merges.append((a, b))
            vocab[a + b] = len(vocab)
            if len(merges) == 3000:
                break
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([
        AddedToken('<mask>', special=True, lstrip=True, rstrip=True, normalized=False),
        AddedToken('<|sp|>', special=True, rstrip=True, normalized=False),
        AddedToken('<|sp|>x', special=True, normalized=False),
    ])
    tok.add_tokens([
        AddedToken('[WORD]', single_word=True, normalized=False),
        AddedToken('hello', normalized=True),
        AddedToken('ü', normalized=False),
        AddedToken('ab cd', normalized=True),
        AddedToken('<ma', normalized=True),
    ])
    out_dir = os.path.join(DATA, 'tokenizer_small')
    os.makedirs(out_dir, exist_ok=True)
    j = json.loads(tok.to_str())
    j['model']['merges'] = [' '.join(m) for m in j['model']['merges']]  # the legacy form
    with open(os.path.join(out_dir, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(j, f, ensure_ascii=False)
    tok = Tokenizer.from_str(json.dumps(j))  # what we wrote is what we test
    texts = ['<mask>', ' <mask> ', 'a <mask> b', 'a  <mask>\n\tb', 'x<mask>y', '<mask><mask>',
             '<|sp|>  y', '<|sp|>x', '<|sp|>xx', ' <|sp|>\n', '[WORD]', 'a [WORD] b', 'a[WORD] b',
             'a [WORD]b', '([WORD])', 'é[WORD]', '[WORD][WORD]', '1[WORD]', 'hello', 'ahellob',
             'hello<mask>hello', 'ü', 'üü', 'Zürich', 'ab cd', 'ab  cd', 'xab cdx', '<ma', '<mask',
             '<mas<mask>', ' \u3000<mask>\u00a0 ', 'hello [WORD] ü <|sp|> <mask> ab cd']
    for _ in range(300):
        line = rng.choice(corpus)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randint(0, len(line))
            ins = rng.choice(['<mask>', ' <mask> ', '<|sp|>', '[WORD]', ' [WORD] ', 'hello', 'ü', 'ab cd', '<ma'])
            line = line[:pos] + ins + line[pos:]
        texts.append(line[:200])
    with open(os.path.join(DATA, 'tokenizer_small_golden.jsonl'), 'w', encoding='utf-8') as f:
        for t in texts:
            ids = tok.encode(t, add_special_tokens=False).ids
            tok.encode_special_tokens = True
            ids_plain = tok.encode(t, add_special_tokens=False).ids
            tok.encode_special_tokens = False
            rec = {'text': t, 'ids': ids, 'ids_no_special': ids_plain,
                   'decoded': tok.decode(ids, skip_special_tokens=False),
                   'decoded_skip': tok.decode(ids, skip_special_tokens=True)}
            f.write(json.dumps(rec, ensure_ascii=False, separators=(',', ':')) + '\n')
    print(f'small tokenizer: {len(vocab)} tokens, {len(texts)} golden lines')


# ----------------------------------------------------------------------------- main

def compare_with_transformers(gguf_path, ref, lines):
    try:
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    except Exception as e:  # noqa: BLE001 - report whatever went wrong, it is a finding
        print(f'transformers GGUF loader failed: {type(e).__name__}: {e}')
        return
    print('transformers tokenizer:', type(hf).__name__)
    backend = getattr(hf, 'backend_tokenizer', None) or getattr(hf, '_tokenizer', None)
    if backend is not None:
        j = json.loads(backend.to_str())
        print('  normalizer:', json.dumps(j.get('normalizer')))
        print('  pre_tokenizer:', json.dumps(j.get('pre_tokenizer')))
        print('  decoder:', json.dumps(j.get('decoder')))
        print('  post_processor:', json.dumps(j.get('post_processor'))[:300])
    diff = 0
    shown = 0
    for line in lines:
        a = ref.encode(line, add_special_tokens=False).ids
        b = hf.encode(line, add_special_tokens=False)
        if a != b:
            diff += 1
            if shown < 8:
                shown += 1
                print(f'  differs on {line[:60]!r}:\n    ref {a[:20]}\n    hf  {b[:20]}')
    print(f'transformers GGUF vs reference: {diff} of {len(lines)} lines differ '
          f'(add_special_tokens=False)')
    a = ref.encode('Hi', add_special_tokens=True).ids
    b = hf.encode('Hi', add_special_tokens=True)
    print(f'  with add_special_tokens=True, "Hi": ref {a} hf {b}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--gguf', default=os.path.join(ROOT, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf'))
    ap.add_argument('--lines', type=int, default=2400)
    args = ap.parse_args()

    meta = read_gguf(args.gguf)
    if meta['pre'] != 'smollm':
        sys.exit(f'{args.gguf}: tokenizer.ggml.pre is {meta["pre"]!r}, expected smollm')
    ref = build_reference(meta)
    out_dir = os.path.join(DATA, 'smollm2')
    os.makedirs(out_dir, exist_ok=True)
    ref.save(os.path.join(out_dir, 'tokenizer.json'), pretty=False)
    tokens = meta['tokens']
    config = {
        'add_bos_token': meta['add_bos'],
        'bos_token': tokens[meta['bos']], 'eos_token': tokens[meta['eos']],
        'pad_token': tokens[meta['pad']], 'unk_token': None,
        'chat_template': meta['chat_template'],
        'model_max_length': 8192, 'tokenizer_class': 'GPT2Tokenizer', 'clean_up_tokenization_spaces': False,
    }
    with open(os.path.join(out_dir, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write('\n')

    rng = random.Random(20240611)
    lines = make_corpus(rng, args.lines)
    with open(os.path.join(DATA, 'tokenizer_corpus.txt'), 'w', encoding='utf-8') as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + '\n')
    n_ids = 0
    with open(os.path.join(DATA, 'tokenizer_golden.jsonl'), 'w', encoding='utf-8') as f:
        for line in lines:
            ids = ref.encode(line, add_special_tokens=False).ids
            n_ids += len(ids)
            if ref.decode(ids, skip_special_tokens=False) != line:
                print(f'note: reference decode does not round-trip {line[:40]!r}')
            f.write(json.dumps({'text': line, 'ids': ids}, ensure_ascii=False, separators=(',', ':')) + '\n')
    print(f'{len(lines)} lines, {n_ids} ids, unicode {unicodedata.unidata_version}')

    make_small(meta, random.Random(7), lines)
    compare_with_transformers(args.gguf, ref, lines)


if __name__ == '__main__':
    main()
