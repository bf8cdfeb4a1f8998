"""The one range-coder package (`inrz.coding.rangecoder`, plugins' `inrz.rangecoder`): its
coders round-trip and refuse corrupt streams with the one error table, and no other module
builds a range coder or reports a corrupt range-coded stream on its own (checked from source)."""
from __future__ import annotations

import ast
from pathlib import Path

import constriction
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inrz
from inrz import ContainerError, rangecoder as rc

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inrz" / "coding" / "rangecoder"
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------- the shape: one place codes, one place reports ----------------

def outside_files() -> list[Path]:
    files = [p for folder in ("inrz", "plugins") for p in (ROOT / folder).rglob("*.py")]
    return sorted(p for p in files if PACKAGE not in p.parents and ".egg-info" not in str(p))


def own_coding(source: str) -> list[tuple[int, str]]:
    """(line, what) where a file builds a range coder, reaches into the package's parts, catches
    constriction's AssertionError, keeps its own table of error messages, or words a corrupt
    range-coded stream's error itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
        if isinstance(node, ast.Attribute) and node.attr in ("RangeEncoder", "RangeDecoder"):
            found.append((line, f"builds constriction's {node.attr}"))
        elif "binrange" in module or module.startswith(("inrz.coding.rangecoder.", "rangecoder.")):
            found.append((line, f"imports a part of the range coder ({module})"))
        elif isinstance(node, ast.ExceptHandler) and getattr(node.type, "id", "") == "AssertionError":
            found.append((line, "catches AssertionError (constriction's corrupt stream)"))
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ERRORS" for t in node.targets):
            found.append((line, "keeps its own ERRORS table"))
        elif isinstance(node, ast.Raise) and getattr(getattr(node.exc, "func", None), "id", "") == "ContainerError":
            words = " ".join(n.value for n in ast.walk(node.exc)
                             if isinstance(n, ast.Constant) and isinstance(n.value, str))
            if any(w in words for w in ("range-coded", "range coder", "escape", "last symbol")):
                found.append((line, f"raises its own ContainerError for a range-coded stream: {words!r}"))
    return sorted(found)


def test_only_the_range_coder_codes_and_reports_corrupt_streams():
    files = outside_files()
    assert len(files) > 50 and (ROOT / "plugins" / "inrz_c3" / "rangedec.py") in files
    found = [f"{path.relative_to(ROOT)}:{line} {what}" for path in files for line, what in own_coding(path.read_text())]
    assert not found, "\n".join(found)


def test_the_scan_sees_its_cases():
    found = own_coding("import constriction\nfrom .binrange import put\nfrom inrz.coding.rangecoder.queue import x\n"
                       "enc = constriction.stream.queue.RangeEncoder()\nERRORS = {1: 'no'}\n"
                       "try:\n    pass\nexcept AssertionError:\n"
                       "    raise ContainerError('the range-coded stream is corrupt')\n")
    assert [(line, what.split(" (")[0].split(":")[0]) for line, what in found] == [
        (2, "imports a part of the range coder"), (3, "imports a part of the range coder"),
        (4, "builds constriction's RangeEncoder"), (5, "keeps its own ERRORS table"), (8, "catches AssertionError"),
        (9, "raises its own ContainerError for a range-coded stream")]


def test_the_plugins_reach_it_through_the_public_surface():
    assert inrz.rangecoder is rc and "rangecoder" in inrz.__all__
    assert set(rc.__all__) <= set(dir(rc))


def test_every_error_code_has_words():
    codes = [rc.CORRUPT, rc.PAST_END, rc.TRAILING, rc.BAD_START, rc.BAD_ESCAPE, rc.ESCAPE_TAIL, rc.TOO_LARGE,
             rc.NOT_WORDS]
    assert rc.OK == 0 and sorted(codes) == list(range(1, len(codes) + 1)) and set(rc.ERRORS) == set(codes)
    rc.check(rc.OK, "the stream")
    for code in codes:
        with pytest.raises(ContainerError, match=r"^the test stream ") as info:
            rc.check(code, "the test stream")
        assert str(info.value) == f"the test stream {rc.ERRORS[code]}"
    assert str(rc.corrupt(rc.NOT_WORDS, "x", "7 bytes")).endswith(": 7 bytes")


# ---------------- the queue coder: compiled strict decoder and ExactDecoder ----------------

def leaky_cdf(freq: np.ndarray) -> np.ndarray:
    """The cumulative frequencies constriction's `Categorical(perfect=False)` codes with, for
    probabilities freq / 2**24 (exact dyadic rationals): 1 for every symbol plus its share."""
    n = freq.shape[-1]
    cum = np.concatenate([np.zeros(freq.shape[:-1] + (1,), np.int64), np.cumsum(freq, -1)], -1)
    cdf = ((cum * ((1 << 24) - n)) >> 24) + np.arange(n + 1)
    cdf[..., -1] = 1 << 24
    return cdf


def random_tables(rng, rows: int, n: int) -> np.ndarray:
    """(rows, n) integer frequencies summing to 2**24, skewed like real models."""
    w = rng.exponential(size=(rows, n)) ** 3 + 1e-9
    freq = np.floor(w / w.sum(1, keepdims=True) * (1 << 24)).astype(np.int64)
    freq[:, 0] += (1 << 24) - freq.sum(1)
    return freq


@SETTINGS
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(0, 2000), alphabet=st.sampled_from([2, 3, 9, 64, 300]))
def test_the_compiled_decoder_reads_the_encoders_streams_exactly(seed, n, alphabet):
    rng = np.random.default_rng(seed)
    freq = random_tables(rng, 5, alphabet)
    rows = rng.integers(0, 5, n)
    symbols = np.array([rng.choice(alphabet, p=freq[r] / freq[r].sum()) for r in rows], np.int32)
    enc = rc.queue_encoder()
    if n:
        enc.encode(symbols, constriction.stream.model.Categorical(perfect=False), freq[rows] / float(1 << 24))
    words = enc.get_compressed().astype(np.uint32)
    cdf = leaky_cdf(freq)
    state = rc.queue_start(words)
    assert [rc.queue_symbol(words, state, cdf, r) for r in rows] == list(symbols)
    assert rc.queue_end(words, state) == rc.OK
    exact = rc.ExactDecoder(words, "the test stream")
    if n:
        assert np.array_equal(exact.decode(constriction.stream.model.Categorical(perfect=False),
                                           freq[rows] / float(1 << 24)), symbols)
    exact.finish()


def decode_all(words, cdf, rows) -> int:
    """The first error code the compiled decoder meets, else its end check's."""
    state = rc.queue_start(words)
    for r in rows:
        s = rc.queue_symbol(words, state, cdf, r)
        if s < 0:
            return -s
    return rc.queue_end(words, state)


@pytest.mark.parametrize("edit, codes", [
    (lambda w: np.append(w, np.uint32(0)), {rc.TRAILING}), (lambda w: np.append(w, np.uint32(7)), {rc.TRAILING}),
    (lambda w: w[:-1], {rc.PAST_END, rc.CORRUPT}), (lambda w: w[:-2], {rc.PAST_END, rc.CORRUPT}),
    (lambda w: np.delete(w, w.size // 2), {rc.PAST_END, rc.CORRUPT})])
def test_the_compiled_decoder_refuses_cut_or_padded_streams(edit, codes):
    rng = np.random.default_rng(1)
    freq = random_tables(rng, 3, 40)
    rows = rng.integers(0, 3, 3000)
    symbols = np.array([rng.choice(40, p=freq[r] / freq[r].sum()) for r in rows], np.int32)
    enc = rc.queue_encoder()
    enc.encode(symbols, constriction.stream.model.Categorical(perfect=False), freq[rows] / float(1 << 24))
    words = enc.get_compressed().astype(np.uint32)
    assert decode_all(words, leaky_cdf(freq), rows) == rc.OK
    assert decode_all(edit(words), leaky_cdf(freq), rows) in codes


@pytest.mark.parametrize("edit, message", [(lambda w: np.append(w, np.uint32(7)), "after its last symbol"),
                                           (lambda w: w[:-1], "ends before its last symbol")])
def test_the_exact_decoder_reports_through_the_table(edit, message):
    model = constriction.stream.model.Categorical(np.array([0.7, 0.2, 0.1]), perfect=False)
    enc = rc.queue_encoder()
    enc.encode(np.random.default_rng(0).choice(3, 500, p=[0.7, 0.2, 0.1]).astype(np.int32), model)
    dec = rc.ExactDecoder(edit(enc.get_compressed()), "the test stream")
    with pytest.raises(ContainerError, match=f"^the test stream .*{message}"):
        dec.decode(model, 500)
        dec.finish()
    with pytest.raises(ContainerError, match="whole number of 32-bit"):
        rc.read_words(b"\0" * 6, "the test stream")


# ---------------- the adaptive binary coder ----------------

def binary_encode(ops) -> bytes:
    """ops: (model or -1 for direct bits, value, direct bit count)."""
    pf, ps = rc.bin_models(8)
    st_, out = rc.bin_encoder(), np.zeros(64 + 8 * len(ops), np.uint8)
    for model, value, count in ops:
        if model < 0:
            rc.bin_put_direct(st_, out, value, count)
        else:
            rc.bin_put(st_, out, pf, ps, model, value)
    return out[:rc.bin_flush(st_, out)].tobytes()


def binary_decode(data: bytes, ops):
    pf, ps = rc.bin_models(8)
    data = np.frombuffer(data, np.uint8)
    st_, code = rc.bin_decoder(data)
    if code != rc.OK:
        return None, code
    got = [rc.bin_get_direct(st_, data, count) if model < 0 else rc.bin_get(st_, data, pf, ps, model)
           for model, _, count in ops]
    return got, rc.bin_end(st_, data)


OPS = st.lists(st.one_of(st.tuples(st.integers(0, 7), st.integers(0, 1), st.just(0)),
                         st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(-1), st.integers(0, 2 ** n - 1),
                                                                        st.just(n)))), max_size=300)


@SETTINGS
@given(ops=OPS)
def test_the_binary_coder_round_trips(ops):
    data = binary_encode(ops)
    assert data[:1] == b"\0"
    got, code = binary_decode(data, ops)
    assert code == rc.OK and got == [value for _, value, _ in ops]


def test_the_binary_coder_refuses_cut_or_padded_streams():
    rng = np.random.default_rng(0)
    ops = [(int(m), int(rng.random() < 0.1 + 0.1 * m), 0) for m in rng.integers(0, 8, 4000)]
    data = binary_encode(ops)
    assert binary_decode(data, ops)[1] == rc.OK
    assert binary_decode(data[:-1], ops)[1] == rc.PAST_END
    assert binary_decode(data + b"\0", ops)[1] == rc.TRAILING
    assert binary_decode(b"\1" + data[1:], ops)[1] == rc.BAD_START
    assert binary_decode(b"", ops)[1] == rc.BAD_START


# ---------------- escapes ----------------

@SETTINGS
@given(values=st.lists(st.integers(0, 2 ** 40 - 2), max_size=50))
def test_golomb_escapes_round_trip_and_end_exactly(values):
    w = rc.GolombWriter()
    w.golomb(values)
    data = w.getvalue()
    r = rc.GolombReader(data, "the test escapes")
    assert [r.golomb() for _ in values] == values
    assert rc.golomb_end(r.bits, r.pos) == rc.OK
    assert rc.golomb_end(np.unpackbits(np.frombuffer(data + b"\x80", np.uint8)), r.pos) == rc.ESCAPE_TAIL
    if values:
        cut = rc.GolombReader(data[:-1] if len(data) > 1 else b"", "the test escapes")
        with pytest.raises(ContainerError, match="the test escapes holds an escape no encoder writes"):
            [cut.golomb() for _ in values]


@SETTINGS
@given(values=st.lists(st.one_of(st.integers(-2 ** 62, -6), st.integers(6, 2 ** 62)), max_size=30))
def test_zigzag_escapes_round_trip_inside_the_range_coded_stream(values):
    enc = rc.queue_encoder()
    rc.encode_zigzag(enc, np.array(values, np.int64))
    dec = rc.ExactDecoder(enc.get_compressed(), "the test stream")
    assert list(rc.decode_zigzag(dec, len(values), 5, 2 ** 62)) == values
    dec.finish()


def test_zigzag_escapes_refuse_what_no_encoder_writes():
    for lengths, raw in (([2], [10, 0]), ([1], [4])):  # a padded byte; a value inside the alphabet (2)
        enc = rc.queue_encoder()
        enc.encode(np.array(lengths, np.int32), constriction.stream.model.Uniform(9))
        enc.encode(np.array(raw, np.int32), constriction.stream.model.Uniform(256))
        with pytest.raises(ContainerError, match="the test stream holds an escape no encoder writes"):
            rc.decode_zigzag(rc.ExactDecoder(enc.get_compressed(), "the test stream"), 1, 5, 2 ** 62)
